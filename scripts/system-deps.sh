#!/usr/bin/env bash
# Install the Debian packages LinkCRM needs, when they are missing.
#   scripts/system-deps.sh run   PostgreSQL server, Dovecot (IMAP + LMTP), Python venv support
#   scripts/system-deps.sh test  the same, plus Chromium for the browser tests
# As root it installs with apt-get; otherwise it names the packages to install and fails.
set -euo pipefail
mode="${1:-run}"
missing=()

have_pg() { compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null; }
have_dovecot() { command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ]; }
have_lmtp() { [ -x /usr/lib/dovecot/lmtp ]; }
have_imap() { [ -x /usr/lib/dovecot/imap ]; }
have_venv() { "${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null; }

if [ -z "${DATABASE_URL:-}" ] && ! have_pg; then missing+=(postgresql); fi
if ! have_dovecot || ! have_imap; then missing+=(dovecot-imapd); fi
if ! have_lmtp; then missing+=(dovecot-lmtpd); fi
if ! have_venv; then missing+=(python3-venv); fi
if [ "$mode" = "test" ] && ! command -v chromium >/dev/null; then missing+=(chromium); fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "LinkCRM needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
