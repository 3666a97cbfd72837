"""Response helpers shared by every app's views."""

from django.http import HttpResponseRedirect


def see_other(url: str) -> HttpResponseRedirect:
    """303: after a POST the browser follows with a GET, so a reload never repeats the write."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response
