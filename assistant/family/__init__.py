"""The family and staff side: setting up a laptop for an elder (answers, voice check), the calendar reminder,
and the kiosk's anonymous counts for the staff."""
