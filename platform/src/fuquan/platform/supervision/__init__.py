"""Supervision (电子监察): case counts, deadline warnings, on-time rates and ratings for a subtree."""
