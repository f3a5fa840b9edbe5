"""The community-center kiosk (big-text screen, push-to-talk, privacy between users) and the family setup."""
