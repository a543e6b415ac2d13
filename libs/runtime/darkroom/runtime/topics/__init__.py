"""The stack's topics on a broker: what they should be (`desired`), what to change (`plan`, pure),
reading and changing them (`admin`), and the `darkroom-topics` command (`cli`)."""
