"""Web pages for citizens: progress lookup by receipt number and query code; rating after issuance."""
