"""The one line a refused form becomes in a flash message or a command's error."""

from __future__ import annotations

from churnapp.editing import errors_text


def test_errors_text_names_fields_in_words_and_leaves_form_wide_errors_bare():
    errors = {"start_on": ["Enter a valid date."], "__all__": ["End before start.", "Too long."]}
    assert errors_text(errors) == "start on: Enter a valid date.; End before start. Too long."


def test_errors_text_of_no_errors_is_empty():
    assert errors_text({}) == ""
