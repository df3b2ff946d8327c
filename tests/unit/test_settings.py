"""Settings are checked when a process starts: a wrong variable stops it with one line that names it."""

import pytest

from backbone.settings import Settings, faults_of, get_settings


def faults(monkeypatch, **variables: str) -> list[str]:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as stopped:
        get_settings()
    get_settings.cache_clear()
    assert stopped.value.code == 2
    with pytest.raises(Exception) as error:
        Settings(_env_file=None)
    return faults_of(error.value)


def test_each_wrong_variable_gets_one_line_naming_it_and_the_expected_form(monkeypatch, capsys):
    lines = faults(monkeypatch, FUNDWATCH_RATE_LIMIT_PERSON="1000000", FUNDWATCH_RELAY_POLL_SECONDS="soon")
    assert lines == [
        "FUNDWATCH_RATE_LIMIT_PERSON: expected a rate in `limits` notation such as 600/minute, got '1000000'",
        "FUNDWATCH_RELAY_POLL_SECONDS: Input should be a valid number, unable to parse string as a number"]
    said = capsys.readouterr().err.splitlines()
    assert said == [f"fundwatch: bad setting {line}" for line in lines], "no traceback, a line per variable"


def test_the_calendar_clock_is_shifted_only_on_a_development_machine(monkeypatch):
    monkeypatch.setenv("FUNDWATCH_ENV", "production")
    assert faults(monkeypatch, FUNDWATCH_CLOCK_OFFSET_SECONDS="-86400") == [
        "FUNDWATCH_CLOCK_OFFSET_SECONDS is for development only (FUNDWATCH_ENV=development)"]


def test_a_gateway_behind_a_proxy_must_be_told_which_proxies_to_believe(monkeypatch):
    monkeypatch.setenv("FUNDWATCH_ENV", "production")
    monkeypatch.delenv("FUNDWATCH_CLOCK_OFFSET_SECONDS")
    assert faults(monkeypatch, FUNDWATCH_BEHIND_PROXY="true") == [
        "FUNDWATCH_TRUSTED_PROXIES must name the proxies when FUNDWATCH_BEHIND_PROXY=true"]
