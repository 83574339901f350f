"""Project-local services for development and tests: PostgreSQL, Dovecot, an SMTP sandbox.

Runs without Django (it has to start the database Django needs), on loopback only.
``python -m linkcrm.localstack up|down|status|run|test|manage`` is the entry point the
Makefile calls.
"""
