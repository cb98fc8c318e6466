"""Models the tests publish from."""
