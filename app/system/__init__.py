"""System Management: the operation log screen (sub-accounts, feedback and the outbox screen
arrive here with their chapters)."""
