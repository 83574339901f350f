"""LinkCRM: a self-hosted outreach and link-building CRM."""
