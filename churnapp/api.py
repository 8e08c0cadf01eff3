"""The /api/v1/ router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")

api_urlpatterns = router.urls
