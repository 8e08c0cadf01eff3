"""The privacy pages, under /privacy/ (admins only): the Customer 360's personal data card, the erasure
confirmations and the export downloads."""

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("accounts/<int:pk>/card/", views.account_card, name="account-card"),
    path("accounts/<int:pk>/erase/", views.account_erase, name="account-erase"),
    path("accounts/<int:pk>/export/", views.account_export, name="account-export"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact-erase"),
    path("contacts/<int:pk>/export/", views.contact_export, name="contact-export"),
]
