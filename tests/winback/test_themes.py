"""Keyword themes, automatic clustering on a fixture, naming a cluster, NPS by theme, and closing the loop."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import EmailMessage
from tests.factories import AccountFactory, ContactFactory, SurveyResponseFactory
from winback import services, textmining
from winback.models import ResponseTheme, Theme
from winback.selectors.themes import theme_monthly, theme_stats

pytestmark = pytest.mark.django_db

SHIPPING = ["Shipping labels print wrong", "The shipping label printer fails", "Shipping labels are blank"]
MOBILE = ["The mobile app crashes on login", "Mobile app crashes constantly", "Our mobile app keeps crashing"]


def test_keyword_matching_is_case_insensitive_on_word_starts():
    assert textmining.keyword_matches("Too EXPENSIVE for us", ["expensive"])
    assert textmining.keyword_matches("Pricing went up", ["price", "pricing"])
    assert not textmining.keyword_matches("We appreciate it", ["price"])


def test_clustering_separates_topics_and_reports_top_terms():
    for method in ("nmf", "kmeans"):
        result = textmining.cluster_comments(SHIPPING + MOBILE, n_clusters=2, method=method)
        first, second = result.labels[:3], result.labels[3:]
        assert len(set(first)) == 1 and len(set(second)) == 1 and first[0] != second[0], method
        terms = {t for terms in result.top_terms for t in terms}
        assert {"shipping", "mobile"} <= {w for t in terms for w in t.split()}


# As respondents write them (the demo's neutral comments), repeated: the clusters used to be named
# "fine, rough edges, fine rough, rough, edges, fine fine".
NEUTRAL = ["Fine, a few rough edges.", "It does the job.", "Fine, fine, rough edges here and there.",
           "Reports could be better."]  # fmt: skip


def test_distinct_terms_keep_each_word_once_and_prefer_the_phrase():
    ranked = ["fine", "rough edges", "fine rough", "rough", "edges", "fine fine", "reports", "reports better"]
    assert textmining.distinct_terms(ranked) == ["fine", "rough edges", "reports better"]
    assert textmining.distinct_terms(["rough", "edges", "rough edges"]) == ["rough edges"]
    assert textmining.cluster_label(ranked) == "Fine · Rough edges · Reports better"
    assert textmining.cluster_label([]) == ""


def test_cluster_terms_and_labels_of_realistic_comments_name_each_word_once():
    result = textmining.cluster_comments(NEUTRAL * 10, n_clusters=3)
    assert result.top_terms
    for terms in result.top_terms:
        words = [w for t in terms for w in t.split()]
        assert len(words) == len(set(words)), terms
        label = textmining.cluster_label(terms)
        label_words = label.lower().replace(" · ", " ").split()
        assert len(label_words) == len(set(label_words)) and label[:1].isupper(), label
    assert any("rough edges" in terms for terms in result.top_terms)


def test_feedback_page_names_a_cluster_by_its_distinct_terms(client, manager):
    from winback.models import ClusterRun, ThemeCluster

    run = ClusterRun.objects.create(n_clusters=1, n_comments=4)
    # A run stored before the rule: its raw terms still read once each.
    raw = ["fine", "rough edges", "fine rough", "rough", "edges", "fine fine"]
    ThemeCluster.objects.create(run=run, index=0, size=4, top_terms=raw)
    client.force_login(manager)
    html = client.get(reverse("winback:feedback")).content.decode()
    assert '<strong class="cluster-label">Fine · Rough edges</strong>' in html
    assert "fine fine" not in html and "Cluster 1" not in html
    assert 'value="Fine · Rough edges"' in html  # the suggested theme name


def test_clustering_degenerate_inputs():
    assert textmining.cluster_comments([], n_clusters=3).labels == []
    assert textmining.cluster_comments(["the a of"] * 3, n_clusters=3).top_terms == []


class TestThemes:
    def test_tagging_counts_and_nps_by_theme(self):
        account = AccountFactory()
        SurveyResponseFactory(account=account, score=2, comment="Way too expensive")
        SurveyResponseFactory(account=account, score=10, comment="Worth the price")
        SurveyResponseFactory(account=account, score=8, comment="Salesforce sync breaks")
        assert services.themes_tag_responses() == 3
        assert services.themes_tag_responses() == 0  # idempotent
        stats = {row["name"]: row for row in theme_stats()}
        assert stats["Pricing"]["n"] == 2 and stats["Pricing"]["nps"] == 0.0
        assert stats["Integrations"]["n"] == 1
        monthly = theme_monthly(months=2)
        assert monthly["series"]["Pricing"][-1] == {"count": 2, "nps": 0.0}

    def test_untagged_comments_are_clustered_and_a_named_cluster_becomes_a_theme(self, manager):
        account = AccountFactory()
        tagged = SurveyResponseFactory(account=account, comment="Too expensive")
        services.themes_tag_responses()
        for text in SHIPPING + MOBILE:
            SurveyResponseFactory(account=account, comment=text)
        run = services.themes_cluster(n_clusters=2)
        assert run.n_comments == 6  # the tagged comment is not re-clustered
        assert tagged.pk not in {r.pk for c in run.clusters.all() for r in c.responses.all()}
        shipping = next(c for c in run.clusters.all() if any("shipping" in t for t in c.top_terms))
        theme = services.cluster_name(cluster=shipping, name="Shipping labels", actor=manager)
        assert theme.source == "cluster" and "shipping" in theme.keywords
        assert ResponseTheme.objects.filter(theme=theme).count() == 3


class TestClosingTheLoop:
    def test_theme_respondents_are_told_once_each_and_unsubscribed_are_not(self, manager):
        account = AccountFactory()
        happy = ContactFactory(account=account)
        unsubscribed = ContactFactory(account=account, unsubscribed=True)
        for contact in (happy, happy, unsubscribed):
            SurveyResponseFactory(
                account=account, contact=contact, comment="Too expensive", responded_at=timezone.now()
            )
        services.themes_tag_responses()
        message = services.loop_message_send(
            theme=Theme.objects.get(name="Pricing"),
            subject="You told us, we changed it",
            body="Hi {{ contact.first_name }}, about {{ theme.name }}: the starter plan is now cheaper.",
            actor=manager,
        )
        assert (message.recipients, message.suppressed) == (1, 1)
        sent = EmailMessage.objects.get(contact=happy)
        assert "about Pricing" in sent.body_text
        assert EmailMessage.objects.get(contact=unsubscribed).status == "suppressed"


def test_manager_sends_you_told_us_to_recent_respondents_only(client, manager):
    import datetime as dt

    from django.urls import reverse

    account = AccountFactory()
    old, recent = ContactFactory(account=account), ContactFactory(account=account)
    SurveyResponseFactory(account=account, contact=old, comment="Too expensive",
                          responded_at=timezone.now() - dt.timedelta(days=200))  # fmt: skip
    SurveyResponseFactory(account=account, contact=recent, comment="Too expensive", responded_at=timezone.now())
    services.themes_tag_responses()
    client.force_login(manager)
    theme = Theme.objects.get(name="Pricing")
    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    response = client.post(reverse("winback:theme-loop", args=[theme.pk]),
                           {"subject": "You told us", "body": "Cheaper now.", "since": since})  # fmt: skip
    assert response.status_code == 302
    assert [m.contact for m in EmailMessage.objects.all()] == [recent]


def test_themes_by_month_table_scrolls_inside_its_card_instead_of_being_cut_off(client, manager):
    SurveyResponseFactory(account=AccountFactory(), score=2, comment="Way too expensive")
    services.themes_tag_responses()
    client.force_login(manager)
    html = client.get(reverse("winback:feedback")).content.decode()
    months = html[html.index('id="theme-months"') :]
    assert months.index('<div class="table-wrap">') < months.index("<table")
