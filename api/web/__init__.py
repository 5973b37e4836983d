"""The service's browser side: the page at ``/`` and the offline API docs."""
