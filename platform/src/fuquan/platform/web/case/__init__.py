"""Web pages: the case page (applicant, materials with evidence, deadline, trace) and its actions."""
