"""Web pages: 电子监察."""
