"""feedsync: supplier feed to store sync."""
