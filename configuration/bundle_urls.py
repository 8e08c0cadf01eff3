"""bundle_urls"""

urlpatterns: list = []
