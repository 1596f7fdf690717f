"""Back-office views, one module per aggregate."""
