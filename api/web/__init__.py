"""The Dutch web interface: Jinja2 templates and static assets, the page routes and the view
helpers that shape facade answers for the templates."""
