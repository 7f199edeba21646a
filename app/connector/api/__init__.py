"""HTTP routes of the connector: the EKP-compatible todo service, the console's notifications, the login flows."""
