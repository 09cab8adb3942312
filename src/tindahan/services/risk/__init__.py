"""Risk and compliance services: the alerts of the live rules and the holds they put on money."""
