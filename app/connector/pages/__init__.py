"""The connector's pages (guide section 4): thin NiceGUI pages over app.connector.services."""
