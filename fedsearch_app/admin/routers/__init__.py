"""The admin's routers, one per concern; fedsearch_app/admin/routes.py mounts them in this order."""
