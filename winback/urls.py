from django.urls import path

from winback import views

app_name = "winback"

urlpatterns = [
    path("winback/", views.overview, name="overview"),
    path("winback/feedback/", views.feedback, name="feedback"),
    path("winback/accounts/<int:pk>/cancel/", views.account_cancel, name="account-cancel"),
    path("winback/accounts/<int:pk>/pause/", views.account_pause, name="account-pause"),
    path("winback/accounts/<int:pk>/card/", views.account_card, name="account-card"),
    path("winback/accounts/<int:pk>/suppress/", views.account_suppress, name="account-suppress"),
    path("winback/accounts/<int:pk>/survey/", views.account_survey, name="account-survey"),
    path("winback/responses/<int:pk>/follow-up/", views.response_follow_up, name="response-follow-up"),
    path("winback/clusters/<int:pk>/name/", views.cluster_name, name="cluster-name"),
    path("winback/issue-routes/", views.issue_route_save, name="issue-route-save"),
    path("winback/themes/recluster/", views.themes_recluster, name="themes-recluster"),
    path("winback/themes/<int:pk>/loop/", views.theme_loop, name="theme-loop"),
    path("winback/campaigns/", views.campaign_create, name="campaign-create"),
    path("winback/campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("winback/campaigns/<int:pk>/send/", views.campaign_send, name="campaign-send"),
    path("winback/release-notes/", views.release_note_create, name="release-note-create"),
    # Public, no login: the tokenised survey link.
    path("survey/<str:token>/", views.survey_answer, name="survey-answer"),
    path("survey/<str:token>/thanks/", views.survey_thanks, name="survey-thanks"),
]
