"""News: pull articles for every question, match them, store them."""
