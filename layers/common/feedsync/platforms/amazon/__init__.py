"""Amazon Selling Partner API: listings read through reports and search, written
through JSON listings feeds."""
