-- The journal: every table the bot writes, in one place.
-- Version 5 (PRAGMA user_version = 5); journal/migrations.py upgrades older files. Times are UTC ISO-8601 text
-- (2025-05-04T15:33:00.000Z); prices, quantities and money are decimal text, never floats.
-- Read it with `sqlite3 journal.db`; the README lists audit queries.

-- One row per journal file: what wrote it, so a replay never overwrites a live journal.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every signal a strategy emitted, accepted or refused, with the reason for a refusal.
CREATE TABLE IF NOT EXISTS signals (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,        -- when the bot handled it
    candle_time       TEXT NOT NULL,        -- open time of the candle it came from
    symbol            TEXT NOT NULL,
    side              TEXT NOT NULL,        -- LONG | SHORT
    entry_type        TEXT NOT NULL,        -- MARKET | LIMIT
    entry_price       TEXT NOT NULL,        -- limit price, or the price seen for MARKET
    stop_price        TEXT NOT NULL,
    take_profit_price TEXT NOT NULL,
    strategy          TEXT NOT NULL,
    reason            TEXT NOT NULL,        -- the strategy's words
    accepted          INTEGER NOT NULL,     -- 1 accepted, 0 refused
    refusal           TEXT,                 -- code: words, when refused
    position_id       INTEGER REFERENCES positions(id),
    basis             TEXT,                 -- the engine events it was built from, e.g. fvg:812,choch:799
    expiry_candles    INTEGER               -- LIMIT: candles an unfilled entry may rest (NULL: limit_entry_timeout_candles)
);

-- One row per position; `state` is the position machine's state.
CREATE TABLE IF NOT EXISTS positions (
    id                INTEGER PRIMARY KEY,
    symbol            TEXT NOT NULL,
    side              TEXT NOT NULL,        -- LONG | SHORT
    strategy          TEXT NOT NULL,
    state             TEXT NOT NULL,        -- IDLE | ENTERING | OPEN | CLOSING | CLOSED
    quantity          TEXT NOT NULL,        -- base asset, always positive; the filled size once filled
    entry_price       TEXT,                 -- average entry fill price
    stop_price        TEXT NOT NULL,
    take_profit_price TEXT NOT NULL,
    opened_at         TEXT,                 -- time of the first entry fill
    closed_at         TEXT,
    exit_price        TEXT,                 -- average exit fill price
    realized_pnl      TEXT NOT NULL DEFAULT '0',  -- before fees, quote asset (USDT)
    fees              TEXT NOT NULL DEFAULT '0',  -- all commissions of entry and exit, quote asset
    close_reason      TEXT,                 -- take_profit | stop_loss | exit | entry_rejected | closed_outside_bot | liquidation | adl | unprotected | ...; written with the move to CLOSING
    created_at        TEXT NOT NULL
);

-- Every order the bot meant to send, written before it was sent.
CREATE TABLE IF NOT EXISTS orders (
    client_order_id   TEXT PRIMARY KEY,     -- ours, deterministic: <journal>-<position>-<role><attempt>
    position_id       INTEGER NOT NULL REFERENCES positions(id),
    role              TEXT NOT NULL,        -- entry | stop | take_profit | exit | outside (a close the bot did not send, never sent)
    type              TEXT NOT NULL,        -- MARKET | LIMIT | STOP_MARKET | TAKE_PROFIT_MARKET
    side              TEXT NOT NULL,        -- BUY | SELL
    quantity          TEXT,                 -- NULL for closePosition orders
    price             TEXT,                 -- LIMIT price
    trigger_price     TEXT,                 -- STOP_MARKET / TAKE_PROFIT_MARKET trigger
    status            TEXT NOT NULL,        -- INTENT (written, not yet answered) | NEW | PARTIALLY_FILLED | FILLED | CANCELED | EXPIRED | REJECTED
    filled_quantity   TEXT NOT NULL DEFAULT '0',
    avg_price         TEXT,
    exchange_order_id TEXT,
    detail            TEXT,                 -- the exchange's refusal, when there is one
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_position ON orders(position_id);

-- Every fill the exchange reported, one row per trade.
CREATE TABLE IF NOT EXISTS fills (
    id                INTEGER PRIMARY KEY,
    client_order_id   TEXT NOT NULL REFERENCES orders(client_order_id),
    position_id       INTEGER NOT NULL REFERENCES positions(id),
    at                TEXT NOT NULL,
    quantity          TEXT NOT NULL,
    price             TEXT NOT NULL,
    fee               TEXT NOT NULL,        -- quote asset
    realized_pnl      TEXT NOT NULL,        -- this fill's realized PnL before fees
    trade_id          TEXT                  -- the exchange's trade id; a fill is booked once per (order, trade id)
);
CREATE INDEX IF NOT EXISTS fills_by_position ON fills(position_id);
CREATE UNIQUE INDEX IF NOT EXISTS fills_by_trade ON fills(client_order_id, trade_id);

-- Every state change of every position, written before the action it leads to.
CREATE TABLE IF NOT EXISTS transitions (
    id                INTEGER PRIMARY KEY,
    position_id       INTEGER NOT NULL REFERENCES positions(id),
    from_state        TEXT NOT NULL,
    to_state          TEXT NOT NULL,
    event             TEXT NOT NULL,        -- the trigger, e.g. submit_entry, entry_filled
    at                TEXT NOT NULL,
    client_order_id   TEXT,                 -- the order this transition is about to send, if any
    detail            TEXT
);
CREATE INDEX IF NOT EXISTS transitions_by_position ON transitions(position_id);

-- Closed positions with their net result: the view to audit a run.
CREATE VIEW IF NOT EXISTS trades AS
SELECT id, symbol, side, strategy, quantity, entry_price, exit_price,
       opened_at, closed_at, close_reason,
       realized_pnl, fees,
       printf('%.8f', CAST(realized_pnl AS REAL) - CAST(fees AS REAL)) AS net_pnl
FROM positions
WHERE state = 'CLOSED' AND opened_at IS NOT NULL;

-- The live bot's pulse: one row, rewritten every [bot] heartbeat_seconds by the trader thread.
-- `python bot.py status` reads it: a beat older than three intervals means the bot is not running.
CREATE TABLE IF NOT EXISTS heartbeat (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    at                TEXT NOT NULL,        -- when the trader wrote it
    started_at        TEXT NOT NULL,        -- when this run of the bot started
    pid               INTEGER NOT NULL,
    mode              TEXT NOT NULL,
    symbol            TEXT NOT NULL,        -- the symbols traded, joined with "," (BTCUSDT,ETHUSDT)
    interval_seconds  INTEGER NOT NULL,     -- [bot] heartbeat_seconds of the run that wrote it
    last_candle_time  TEXT,                 -- open time of the most recent closed candle the bot handled, any symbol
    last_price        TEXT,                 -- that candle's close (per symbol: market_marks)
    state             TEXT NOT NULL,        -- one line: running, paused (no new entries), or stopped (and why)
    balance           TEXT                  -- wallet balance at the beat, quote asset (USDT); NULL when unknown
);

-- The log's ERROR lines (secrets masked), so `status` shows the last ones without the log file.
CREATE TABLE IF NOT EXISTS errors (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,
    source            TEXT NOT NULL,        -- the logger (module) that wrote it
    message           TEXT NOT NULL
);

-- The last closed candle of each (symbol, interval) the live bot handled, rewritten with every heartbeat (the
-- marks of this run only). `python bot.py status` reads it: a symbol whose stream died stands out from the others.
CREATE TABLE IF NOT EXISTS market_marks (
    symbol            TEXT NOT NULL,
    interval          TEXT NOT NULL,        -- the kline interval, as in settings (1m, 5m, 1h)
    candle_open_time  TEXT NOT NULL,        -- open time of that candle
    close             TEXT NOT NULL,        -- its close, quote asset
    seen_at           TEXT NOT NULL,        -- the heartbeat that first wrote this candle: when the bot had it
    PRIMARY KEY (symbol, interval)
);

-- Commands from the web dashboard (python -m dashboard), the only rows it writes. The trader applies each on its
-- next idle tick, checked like settings.toml, and writes the outcome into the same row. A command older than a
-- minute when the bot sees it (the bot was not running) is not applied: status `expired`. A command is `taken`
-- (committed) before the bot acts on it; one still `taken` at the next start is answered `interrupted`, never redone.
CREATE TABLE IF NOT EXISTS commands (
    id                INTEGER PRIMARY KEY,
    created_at        TEXT NOT NULL,        -- when the dashboard wrote it
    kind              TEXT NOT NULL,        -- pause | resume | close_position | close_all | stop | set_risk
    target            TEXT NOT NULL DEFAULT '',  -- close_position: the position id; set_risk: the [risk] key
    value             TEXT NOT NULL DEFAULT '',  -- set_risk: the new value, as typed
    status            TEXT NOT NULL DEFAULT 'pending',  -- pending | taken (being carried out) | applied | rejected | expired | interrupted
    result            TEXT,                 -- what the bot did, or why not, in one line
    done_at           TEXT                  -- when the bot wrote the result
);
CREATE INDEX IF NOT EXISTS commands_pending ON commands(status) WHERE status = 'pending';

-- Indexes of the web dashboard's reads (journal/browse.py, journal/browse_lists.py): each page answers in
-- milliseconds on a year of trading (100,000 signals, 5,000 trades; bench/dashboard.py).
CREATE INDEX IF NOT EXISTS signals_by_position ON signals(position_id) WHERE position_id IS NOT NULL;  -- a trade's signal
CREATE INDEX IF NOT EXISTS signals_by_strategy ON signals(strategy);                                    -- the strategy filter's choices
CREATE INDEX IF NOT EXISTS signals_by_refusal ON signals(refusal, symbol) WHERE refusal IS NOT NULL;            -- refusal codes
CREATE INDEX IF NOT EXISTS positions_by_close ON positions(closed_at);                                  -- trades, newest first
CREATE INDEX IF NOT EXISTS fills_by_time ON fills(at);                                                  -- today's PnL
