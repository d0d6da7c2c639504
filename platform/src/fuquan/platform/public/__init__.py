"""The public face (DESIGN §13): 办事指南 with where to go from the live grants, 权力清单 and 责任清单 per unit, and
the 政策法规库 — read-only, no login, cached per policy version and catalogue edition."""
