"""User strategies from `[strategy] strategy_file`, and strategy settings refused before anything
is written: one line each, exit 2, the previous journal kept."""
from __future__ import annotations

import sqlite3

import pytest

import bot
from runtime.settings import SettingsError, load_settings

IDEA = '''\
from ict.models import Side
from ict.strategies import Strategy, register


@register("User_Idea_v1")
class Idea(Strategy):
    """Long after two up-closes."""

    defaults = {"reward_risk": 2.0}
    timeframes = TIMEFRAMES

    def check(self):
        if self.params["reward_risk"] <= 0:
            raise ValueError(f"[strategy.params] reward_risk = {self.params['reward_risk']:g} must be above 0; try 2.0")

    def on_candle(self, ctx):
        return []
'''


pytestmark = pytest.mark.usefixtures("clean_registry")   # strategies a test registers do not leak


@pytest.fixture
def user_settings(tmp_path, write_settings):
    def write(source: str | None = IDEA, name: str = "User_Idea_v1", timeframes: str = "()", **changes):
        folder = tmp_path / "my_strategies"
        folder.mkdir(exist_ok=True)
        if source is not None:
            (folder / "idea.py").write_text(source.replace("TIMEFRAMES", timeframes), encoding="utf-8")
        changes = {"strategy.strategy_file": '"my_strategies/idea.py"', "strategy.strategy_name": f'"{name}"', **changes}
        return write_settings(changes)
    return write


def message(path) -> str:
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    text = str(error.value)
    assert "\n" not in text
    return text


def test_strategy_file_registers_its_strategy_relative_to_the_settings_file(user_settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)   # the path is relative to settings.toml, not to the working folder
    settings = load_settings(user_settings(**{"strategy.params.reward_risk": "3"}))
    strategy = settings.build_strategy()
    assert (type(strategy).__name__, strategy.name, strategy.params) == ("Idea", "User_Idea_v1", {"reward_risk": 3.0})
    assert load_settings(user_settings()).build_strategy().name == "User_Idea_v1"   # loading twice is fine


def test_strategy_file_missing_is_one_line(user_settings, tmp_path):
    text = message(user_settings(source=None, **{"strategy.strategy_file": '"my_strategies/nope.py"'}))
    assert text.startswith('settings.toml [strategy] strategy_file = "my_strategies/nope.py" does not exist (')
    assert text.endswith("); name a Python file, relative to the settings file")


def test_strategy_file_syntax_error_names_file_and_line(user_settings):
    broken = IDEA.replace("    def on_candle(self, ctx):", "    def on_candle(self, ctx)")
    assert message(user_settings(broken)) == "settings.toml my_strategies/idea.py:16: syntax error: expected ':'; fix the strategy file"


def test_strategy_file_import_error_names_file_and_line(user_settings):
    text = message(user_settings("import math\nimport not_a_module_xyz\n"))
    assert text == ("settings.toml my_strategies/idea.py:2: ModuleNotFoundError: No module named 'not_a_module_xyz'; "
                    "fix the strategy file")


def test_strategy_file_without_the_named_strategy_suggests_the_close_one(user_settings):
    text = message(user_settings(name="User_Idee_v1"))
    assert text == ('settings.toml [strategy] strategy_name = "User_Idee_v1" is not a known strategy; '
                    'did you mean "User_Idea_v1"? known: FVG_Market_Entry_v1, Mock_ThreeCandles_v1, OB_Limit_Entry_v1, '
                    'Silver_Bullet_v1, User_Idea_v1')


def test_strategy_param_out_of_range_is_refused_at_loading(user_settings, write_settings):
    assert message(user_settings(**{"strategy.params.reward_risk": "0"})) == \
        "settings.toml [strategy.params] reward_risk = 0 must be above 0; try 2.0"
    assert message(write_settings({"strategy.params.reward_risk": "-1.5"})) == \
        "settings.toml [strategy.params] reward_risk = -1.5 must be above 0; try 2.0"


def test_strategy_timeframes_not_a_multiple_of_the_interval_are_refused(user_settings):
    text = message(user_settings(timeframes='("1h", "7m")'))
    assert text == ('settings.toml User_Idea_v1 declares timeframes = (\'1h\', \'7m\'), but "7m" is not a whole multiple '
                    'above [strategy] interval = "1m"; "7m" is not a Binance interval; use one of 1m, 3m, 5m, 15m, 30m, 1h, '
                    '2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w')


def test_bad_strategy_param_keeps_the_previous_replay_journal(write_settings, tmp_path, capsys):
    # issue #7: `reward_risk = 0` used to end in a traceback after the last replay's journal was wiped
    journal = tmp_path / "journal.db"
    assert bot.main(["--settings", str(write_settings()), "--journal", str(journal)]) == 0
    with sqlite3.connect(journal) as db:
        before = db.execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    assert before > 0
    capsys.readouterr()
    code = bot.main(["--settings", str(write_settings({"strategy.params.reward_risk": "0"})), "--journal", str(journal)])
    assert code == 2
    assert capsys.readouterr().err == "error: settings.toml [strategy.params] reward_risk = 0 must be above 0; try 2.0\n"
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] == before



FAULTY = IDEA.replace('''    def on_candle(self, ctx):
        return []''', '''    seen = 0

    def on_candle(self, ctx):
        self.seen += 1
        if self.seen == 5:
            return [self.signal(ctx, Side.LONG, ctx.candle.close - 50, ctx.candle.close + 100)]
        if self.seen == 30:
            return FAULT
        return []''')


@pytest.mark.parametrize("fault, words", [
    ('{}["boom"]', 'KeyError: \'boom\' (my_strategies/idea.py line 23); fix the strategy'),
    ('self.signal(ctx, Side.LONG, 1.0, 1e9)', 'on_candle returned a Signal, not a list'),
    ('{"side": "LONG"}', 'on_candle returned a dict, not a list'),
])
def test_strategy_failing_in_on_candle_is_one_line_exit_2_keeping_its_rows(user_settings, tmp_path, capsys, fault, words):
    journal = tmp_path / "journal.db"
    path = user_settings(FAULTY.replace("FAULT", fault))
    code = bot.main(["--settings", str(path), "--journal", str(journal)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if not line[:8].replace(":", "").isdigit()]  # the console log aside
    assert len(errors) == 1 and errors[0].startswith("error: settings.toml strategy User_Idea_v1 failed at the 1m "
                                                     "candle of 2022-05-06 00:29 UTC: ")
    assert words in errors[0]
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] == 1   # what it did before is kept
