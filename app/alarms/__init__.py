"""Alarm Management (spec chapter 5 and the appendix): alarm types, Enterprise Alarm Settings,
the alarm list, the latest-alarm bell, alarm mail and digests."""
