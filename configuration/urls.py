"""urls"""

urlpatterns: list = []
