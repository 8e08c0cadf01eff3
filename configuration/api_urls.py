"""api_urls"""

urlpatterns: list = []
