"""Forms for outreach's pages. They parse and check shapes; the services decide what is valid."""

from __future__ import annotations

import zoneinfo

from django import forms

from outreach.choices import MessageKind, SmtpSecurity
from outreach.services.mailboxes import MailboxError, validate_timezone

WEEKDAY_CHOICES = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class MailboxForm(forms.Form):
    """Every editable mailbox field; passwords are write-only (never rendered back)."""

    name = forms.CharField(max_length=100, help_text="A label for people, e.g. 'Sam – Gmail'.")
    email = forms.EmailField(max_length=254, label="Email address")
    from_name = forms.CharField(max_length=100, required=False, label="From name")
    signature = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    smtp_host = forms.CharField(max_length=253, label="SMTP server", help_text="e.g. smtp.gmail.com")
    smtp_port = forms.IntegerField(min_value=1, max_value=65535, initial=587, label="SMTP port")
    smtp_security = forms.ChoiceField(choices=SmtpSecurity.choices, initial=SmtpSecurity.STARTTLS,
                                      label="SMTP security")
    smtp_username = forms.CharField(max_length=254, required=False, label="SMTP username",
                                    help_text="Usually the email address.")
    smtp_password = forms.CharField(
        required=False, label="SMTP password", strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="An app password for Gmail/Outlook. Leave blank to keep the stored one.",
    )
    imap_host = forms.CharField(max_length=253, required=False, label="IMAP server",
                                help_text="e.g. imap.gmail.com; blank: replies are not read.")
    imap_port = forms.IntegerField(min_value=1, max_value=65535, initial=993, label="IMAP port")
    imap_ssl = forms.BooleanField(required=False, initial=True, label="IMAP over SSL/TLS")
    imap_username = forms.CharField(max_length=254, required=False, label="IMAP username")
    imap_password = forms.CharField(
        required=False, label="IMAP password", strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Blank: the SMTP password for a new mailbox, the stored one when editing.",
    )
    watch_folders = forms.CharField(max_length=1000, initial="INBOX", label="Folders to watch",
                                    help_text="Comma-separated IMAP folder names.")
    sent_folder = forms.CharField(max_length=200, required=False, initial="Sent", label="Sent folder")
    server_saves_sent = forms.BooleanField(
        required=False, initial=False, label="The server files sent mail in Sent by itself",
        help_text="Tick only if the server itself files every message sent over SMTP in the Sent folder "
                  "(Gmail, Outlook). Then a message whose sending was interrupted and that is not in Sent "
                  "is sent again; unticked, we file a copy ourselves and never resend a message in doubt.",
    )
    daily_cap = forms.IntegerField(min_value=1, max_value=10_000, initial=50, label="Daily cap")
    min_gap_seconds = forms.IntegerField(min_value=0, max_value=86_400, initial=120, label="Minimum gap (s)")
    gap_jitter_seconds = forms.IntegerField(min_value=0, max_value=86_400, initial=60, label="Jitter (s)",
                                            help_text="A random extra wait of up to this many seconds.")
    window_days = forms.TypedMultipleChoiceField(choices=WEEKDAY_CHOICES, coerce=int, initial=[0, 1, 2, 3, 4],
                                                 widget=forms.CheckboxSelectMultiple, label="Sending days")
    window_start = forms.TimeField(initial="09:00", label="Window starts",
                                   widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(initial="17:00", label="Window ends",
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    timezone = forms.CharField(max_length=64, initial="UTC", label="Time zone",
                               widget=forms.TextInput(attrs={"list": "timezones", "autocomplete": "off"}),
                               help_text="An IANA name such as Europe/Berlin or America/New_York.")

    def __init__(self, *args: object, creating: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        if creating:
            self.fields["smtp_password"].help_text = "An app password for Gmail/Outlook."

    def clean_watch_folders(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["watch_folders"].split(",") if name.strip()]
        if not names:
            raise forms.ValidationError("Name at least one folder (usually INBOX).")
        return names

    def clean_timezone(self) -> str:
        try:
            return validate_timezone(self.cleaned_data["timezone"].strip())
        except MailboxError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict:
        data = super().clean()
        if self.creating and not data.get("smtp_password"):
            self.add_error("smtp_password", "A new mailbox needs its password.")
        return data

    def values(self) -> dict:
        """The cleaned values the mailbox services take (passwords excluded)."""
        return {k: v for k, v in self.cleaned_data.items() if k not in ("smtp_password", "imap_password")}


def timezone_names() -> list[str]:
    """Every zone name zoneinfo knows, for the time zone field's suggestions."""
    return sorted(zoneinfo.available_timezones())


def mailbox_initial(mailbox: object) -> dict:
    """Form initial values from a mailbox; never its passwords."""
    names = [name for name in MailboxForm.base_fields if name not in ("smtp_password", "imap_password")]
    initial = {name: getattr(mailbox, name) for name in names}
    initial["watch_folders"] = ", ".join(initial["watch_folders"] or [])
    return initial


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    subject = forms.CharField(max_length=998, widget=forms.TextInput(attrs={"class": "code"}))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "class": "code"}), strip=False,
                           label="Text body")
    html = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "class": "code"}), required=False,
                           strip=False, label="HTML body (optional)")


class SequenceForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class InboxFilterForm(forms.Form):
    mailbox = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    project = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *MessageKind.choices], required=False)
    all = forms.BooleanField(required=False, label="Include handled")
