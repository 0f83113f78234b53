"""Synthetic cost views in the fakesnow account: deterministic, set-based, with planted waste.

Every value derives from GENERATOR's SEQ4() with integer arithmetic, relative to ``now`` (the
anchor hour), so the same scale and hour always produce the same rows.

Planted cases (warehouse numbers are 1-based; tiny has 3 warehouses, so all land there):
- WH 1 ``TRANSFORM_WH``: high idle share (queries are attributed only 25% of compute),
  AUTO_SUSPEND 3600 s, no resource monitor.
- WH 2 ``BI_WH``: remote spilling on every third query, sustained queued load (AVG_QUEUED_LOAD 1.5)
  and queued-overload time on its queries.
- WH 3 ``ADHOC_WH``: no cache use (PERCENTAGE_SCANNED_FROM_CACHE 0) and full partition scans;
  its queries have no QUERY_ATTRIBUTION_HISTORY rows, so their cost uses the hourly-share method.
- ARCHIVE.PUBLIC.EVENTS_2019: a 40 TB table never read; RAW.PUBLIC.CLICKSTREAM: time travel 6x active.
- An anomalous spend day: ``days - 6`` days after the start, every warehouse burns 6x.
- QUERY_HISTORY repeats three rows (the real view can): readers must deduplicate on QUERY_ID.
- Cloud services billed fraction (METERING_DAILY_HISTORY, WAREHOUSE_METERING rows, per UTC day; the day's number
  is its days since 2000-01-01, mod 7): usually cloud services are 12% of compute and the adjustment takes back 10%
  of compute (fraction 1/6); on days numbered 2 they are 6% of compute, so the adjustment cancels them all
  (fraction 0); on days numbered 4 there is no adjustment (fraction 1).

The security seeder runs after this one and only INSERTs into QUERY_HISTORY (this module creates it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

AU = "SNOWFLAKE.ACCOUNT_USAGE"
TB = 1099511627776
WAREHOUSE_NAMES = ("TRANSFORM_WH", "BI_WH", "ADHOC_WH", "LOADING_WH", "REPORTING_WH", "DS_WH")
SIZES = ("X-Small", "Small", "Medium", "Large")
ANOMALY_FACTOR = 6
# UTC days (days since 2000-01-01, mod 7) whose cloud services the adjustment cancels / does not adjust.
CS_FREE_DAY, CS_UNADJUSTED_DAY = 2, 4


def _day_number(day_expr: str) -> str:
    return f"MOD(DATEDIFF(day, '2000-01-01'::DATE, {day_expr}), 7)"


QUERY_HISTORY_COLUMNS = """
    QUERY_ID VARCHAR, QUERY_TEXT VARCHAR, DATABASE_ID NUMBER, DATABASE_NAME VARCHAR, SCHEMA_ID NUMBER,
    SCHEMA_NAME VARCHAR, QUERY_TYPE VARCHAR, SESSION_ID NUMBER, USER_NAME VARCHAR, ROLE_NAME VARCHAR,
    WAREHOUSE_ID NUMBER, WAREHOUSE_NAME VARCHAR, WAREHOUSE_SIZE VARCHAR, WAREHOUSE_TYPE VARCHAR,
    CLUSTER_NUMBER NUMBER, QUERY_TAG VARCHAR, EXECUTION_STATUS VARCHAR, ERROR_CODE VARCHAR, ERROR_MESSAGE VARCHAR,
    START_TIME TIMESTAMP_NTZ, END_TIME TIMESTAMP_NTZ, TOTAL_ELAPSED_TIME NUMBER, BYTES_SCANNED NUMBER,
    PERCENTAGE_SCANNED_FROM_CACHE FLOAT, BYTES_WRITTEN NUMBER, BYTES_WRITTEN_TO_RESULT NUMBER,
    BYTES_READ_FROM_RESULT NUMBER, ROWS_PRODUCED NUMBER, ROWS_INSERTED NUMBER, ROWS_UPDATED NUMBER,
    ROWS_DELETED NUMBER, ROWS_UNLOADED NUMBER, BYTES_DELETED NUMBER, PARTITIONS_SCANNED NUMBER,
    PARTITIONS_TOTAL NUMBER, BYTES_SPILLED_TO_LOCAL_STORAGE NUMBER, BYTES_SPILLED_TO_REMOTE_STORAGE NUMBER,
    BYTES_SENT_OVER_THE_NETWORK NUMBER, COMPILATION_TIME NUMBER, EXECUTION_TIME NUMBER,
    QUEUED_PROVISIONING_TIME NUMBER, QUEUED_REPAIR_TIME NUMBER, QUEUED_OVERLOAD_TIME NUMBER,
    TRANSACTION_BLOCKED_TIME NUMBER, OUTBOUND_DATA_TRANSFER_CLOUD VARCHAR, OUTBOUND_DATA_TRANSFER_REGION VARCHAR,
    OUTBOUND_DATA_TRANSFER_BYTES NUMBER, INBOUND_DATA_TRANSFER_CLOUD VARCHAR, INBOUND_DATA_TRANSFER_REGION VARCHAR,
    INBOUND_DATA_TRANSFER_BYTES NUMBER, LIST_EXTERNAL_FILES_TIME NUMBER, CREDITS_USED_CLOUD_SERVICES FLOAT,
    RELEASE_VERSION VARCHAR, EXTERNAL_FUNCTION_TOTAL_INVOCATIONS NUMBER, QUERY_LOAD_PERCENT NUMBER,
    IS_CLIENT_GENERATED_STATEMENT BOOLEAN, QUERY_ACCELERATION_BYTES_SCANNED NUMBER,
    QUERY_ACCELERATION_PARTITIONS_SCANNED NUMBER, QUERY_ACCELERATION_UPPER_LIMIT_SCALE_FACTOR NUMBER,
    TRANSACTION_ID NUMBER, CHILD_QUERIES_WAIT_TIME NUMBER, ROLE_TYPE VARCHAR, QUERY_HASH VARCHAR,
    QUERY_HASH_VERSION NUMBER, QUERY_PARAMETERIZED_HASH VARCHAR, QUERY_PARAMETERIZED_HASH_VERSION NUMBER,
    SECONDARY_ROLE_STATS VARCHAR, ROWS_WRITTEN_TO_RESULT NUMBER, QUERY_RETRY_TIME NUMBER,
    QUERY_RETRY_CAUSE VARCHAR, FAULT_HANDLING_TIME NUMBER, USER_TYPE VARCHAR, AUTHN_EVENT_ID NUMBER
"""

DDL = {
    "WAREHOUSE_METERING_HISTORY": """START_TIME TIMESTAMP_NTZ, END_TIME TIMESTAMP_NTZ, WAREHOUSE_ID NUMBER,
        WAREHOUSE_NAME VARCHAR, CREDITS_USED NUMBER(38,9), CREDITS_USED_COMPUTE NUMBER(38,9),
        CREDITS_USED_CLOUD_SERVICES NUMBER(38,9), CREDITS_ATTRIBUTED_COMPUTE_QUERIES NUMBER(38,9)""",
    "METERING_HISTORY": """SERVICE_TYPE VARCHAR, START_TIME TIMESTAMP_NTZ, END_TIME TIMESTAMP_NTZ, ENTITY_ID NUMBER,
        ENTITY_TYPE VARCHAR, NAME VARCHAR, DATABASE_ID NUMBER, DATABASE_NAME VARCHAR, SCHEMA_ID NUMBER,
        SCHEMA_NAME VARCHAR, CREDITS_USED_COMPUTE NUMBER(38,9), CREDITS_USED_CLOUD_SERVICES NUMBER(38,9),
        CREDITS_USED NUMBER(38,9), BYTES NUMBER, ROWS NUMBER, FILES NUMBER, BUDGET_ID NUMBER""",
    "METERING_DAILY_HISTORY": """SERVICE_TYPE VARCHAR, USAGE_DATE DATE, CREDITS_USED_COMPUTE NUMBER(38,9),
        CREDITS_USED_CLOUD_SERVICES NUMBER(38,9), CREDITS_USED NUMBER(38,9),
        CREDITS_ADJUSTMENT_CLOUD_SERVICES NUMBER(38,9), CREDITS_BILLED NUMBER(38,9)""",
    "STORAGE_USAGE": """USAGE_DATE DATE, STORAGE_BYTES NUMBER, STAGE_BYTES NUMBER, FAILSAFE_BYTES NUMBER,
        HYBRID_TABLE_STORAGE_BYTES NUMBER, ARCHIVE_STORAGE_COOL_BYTES NUMBER, ARCHIVE_STORAGE_COLD_BYTES NUMBER,
        ARCHIVE_STORAGE_RETRIEVAL_TEMP_BYTES NUMBER""",
    "DATABASE_STORAGE_USAGE_HISTORY": """USAGE_DATE DATE, DATABASE_ID NUMBER, DATABASE_NAME VARCHAR,
        DELETED TIMESTAMP_NTZ, AVERAGE_DATABASE_BYTES NUMBER, AVERAGE_FAILSAFE_BYTES NUMBER,
        AVERAGE_HYBRID_TABLE_STORAGE_BYTES NUMBER""",
    "TABLE_STORAGE_METRICS": """ID NUMBER, TABLE_NAME VARCHAR, TABLE_SCHEMA_ID NUMBER, TABLE_SCHEMA VARCHAR,
        TABLE_CATALOG_ID NUMBER, TABLE_CATALOG VARCHAR, CLONE_GROUP_ID NUMBER, IS_TRANSIENT VARCHAR,
        ACTIVE_BYTES NUMBER, TIME_TRAVEL_BYTES NUMBER, FAILSAFE_BYTES NUMBER, RETAINED_FOR_CLONE_BYTES NUMBER,
        DELETED BOOLEAN, TABLE_CREATED TIMESTAMP_NTZ, TABLE_DROPPED TIMESTAMP_NTZ,
        TABLE_ENTERED_FAILSAFE TIMESTAMP_NTZ, CATALOG_CREATED TIMESTAMP_NTZ, CATALOG_DROPPED TIMESTAMP_NTZ,
        SCHEMA_CREATED TIMESTAMP_NTZ, SCHEMA_DROPPED TIMESTAMP_NTZ, COMMENT VARCHAR""",
    "QUERY_HISTORY": QUERY_HISTORY_COLUMNS,
    "QUERY_ATTRIBUTION_HISTORY": """QUERY_ID VARCHAR, PARENT_QUERY_ID VARCHAR, ROOT_QUERY_ID VARCHAR,
        WAREHOUSE_ID NUMBER, WAREHOUSE_NAME VARCHAR, QUERY_HASH VARCHAR, QUERY_PARAMETERIZED_HASH VARCHAR,
        QUERY_TAG VARCHAR, USER_NAME VARCHAR, START_TIME TIMESTAMP_NTZ, END_TIME TIMESTAMP_NTZ,
        CREDITS_ATTRIBUTED_COMPUTE NUMBER(38,9), CREDITS_USED_QUERY_ACCELERATION NUMBER(38,9)""",
    "WAREHOUSE_LOAD_HISTORY": """START_TIME TIMESTAMP_NTZ, END_TIME TIMESTAMP_NTZ, WAREHOUSE_ID NUMBER,
        WAREHOUSE_NAME VARCHAR, AVG_RUNNING FLOAT, AVG_QUEUED_LOAD FLOAT, AVG_QUEUED_PROVISIONING FLOAT,
        AVG_BLOCKED FLOAT""",
}

# Local stand-in for SHOW WAREHOUSES (fakesnow answers one canned row): read through the client's seam.
SHOW_WAREHOUSES_TABLE = "SNOWFLAKE.ACCOUNT_USAGE.SNOWWATCH_LOCAL_SHOW_WAREHOUSES"


def warehouse_name(w: int) -> str:
    return WAREHOUSE_NAMES[w - 1] if w <= len(WAREHOUSE_NAMES) else f"WH_{w:02d}"


def size_credits(w: int) -> int:
    """Credits per hour of warehouse ``w`` (X-Small 1, Small 2, Medium 4, Large 8)."""
    return 2 ** ((w - 1) % 4)


def _case(values: dict[int, Any], expr: str, default: Any) -> str:
    whens = " ".join(f"WHEN {k} THEN {v!r}" if isinstance(v, str) else f"WHEN {k} THEN {v}" for k, v in values.items())
    return (
        f"(CASE {expr} {whens} ELSE {default!r} END)"
        if isinstance(default, str)
        else f"(CASE {expr} {whens} ELSE {default} END)"
    )


def _ts(at: datetime) -> str:
    return f"'{at.strftime('%Y-%m-%d %H:%M:%S')}'::TIMESTAMP_NTZ"


def create(cursor: Any) -> None:
    for view, cols in DDL.items():
        cursor.execute(f"CREATE OR REPLACE TABLE {AU}.{view} ({cols})")


def seed(cursor: Any, scale: Any, now: datetime) -> dict[str, int]:
    """Create and fill the cost views for ``scale`` (days, warehouses, queries_per_day)."""
    create(cursor)
    days, nwh, qpd = int(scale.days), int(scale.warehouses), int(scale.queries_per_day)
    start = now - timedelta(days=days)
    t0 = _ts(start.replace(tzinfo=None))
    hours = days * 24
    anomaly_day = days - 6
    names = {w: warehouse_name(w) for w in range(1, nwh + 1)}
    credits = {w: size_credits(w) for w in range(1, nwh + 1)}
    sizes = {w: SIZES[(w - 1) % 4] for w in range(1, nwh + 1)}
    name_of = _case(names, "w", "?")
    credit_of = _case(credits, "w", 1)
    size_of = _case(sizes, "w", "X-Small")

    # ------------------------------------------------ hourly warehouse metering
    cursor.execute(f"""
        INSERT INTO {AU}.WAREHOUSE_METERING_HISTORY
        SELECT DATEADD(hour, h, {t0}), DATEADD(hour, h + 1, {t0}), w, {name_of},
               compute + cs, compute, cs, compute * IFF(w = 1, 0.25, 0.85)
        FROM (
            SELECT w, h, ROUND(compute, 6) AS compute,
                   ROUND(compute * IFF({_day_number(f"TO_DATE(DATEADD(hour, h, {t0}))")} = {CS_FREE_DAY}, 0.06, 0.12),
                         6) AS cs FROM (
                SELECT w, h, {credit_of} * (30 + MOD(h * 7 + w * 13, 60)) / 100.0
                       * IFF(FLOOR(h / 24) = {anomaly_day}, {ANOMALY_FACTOR}, 1) AS compute
                FROM (SELECT MOD(SEQ4(), {nwh}) + 1 AS w, FLOOR(SEQ4() / {nwh}) AS h
                      FROM TABLE(GENERATOR(ROWCOUNT => {hours * nwh})))
            )
        )""")
    # ------------------------------------------------ metering by service type (warehouses + serverless)
    cursor.execute(f"""
        INSERT INTO {AU}.METERING_HISTORY
        SELECT 'WAREHOUSE_METERING', START_TIME, END_TIME, WAREHOUSE_ID, 'WAREHOUSE', WAREHOUSE_NAME,
               NULL, NULL, NULL, NULL, CREDITS_USED_COMPUTE, CREDITS_USED_CLOUD_SERVICES, CREDITS_USED,
               NULL, NULL, NULL, NULL
        FROM {AU}.WAREHOUSE_METERING_HISTORY""")
    cursor.execute(f"""
        INSERT INTO {AU}.METERING_HISTORY
        SELECT IFF(k = 0, 'AUTO_CLUSTERING', 'PIPE'), DATEADD(hour, h, {t0}), DATEADD(hour, h + 1, {t0}),
               1000 + k, IFF(k = 0, 'TABLE', 'PIPE'), IFF(k = 0, 'CLICKSTREAM', 'EVENTS_PIPE'),
               2, 'RAW', 20, 'PUBLIC', c, ROUND(c * 0.02, 6), ROUND(c * 1.02, 6), NULL, NULL, NULL, NULL
        FROM (SELECT MOD(SEQ4(), 2) AS k, FLOOR(SEQ4() / 2) AS h,
                     ROUND((5 + MOD(SEQ4() * 3, 10)) / 100.0, 6) AS c
              FROM TABLE(GENERATOR(ROWCOUNT => {hours * 2})))""")
    cursor.execute(f"""
        INSERT INTO {AU}.METERING_DAILY_HISTORY
        SELECT SERVICE_TYPE, d, compute, cs, compute + cs, adj, compute + cs + adj
        FROM (
          SELECT SERVICE_TYPE, d, compute, cs,
                 IFF(SERVICE_TYPE = 'WAREHOUSE_METERING' AND {_day_number("d")} = {CS_UNADJUSTED_DAY}, 0, adj) AS adj
          FROM (
            SELECT SERVICE_TYPE, TO_DATE(START_TIME) AS d, SUM(CREDITS_USED_COMPUTE) AS compute,
                   SUM(CREDITS_USED_CLOUD_SERVICES) AS cs,
                   -LEAST(SUM(CREDITS_USED_CLOUD_SERVICES), ROUND(SUM(CREDITS_USED_COMPUTE) * 0.1, 6)) AS adj
            FROM {AU}.METERING_HISTORY GROUP BY 1, 2
          )
        )""")

    # ------------------------------------------------ query history (then attribution, then duplicates)
    n = days * qpd
    cursor.execute(f"""
        INSERT INTO {AU}.QUERY_HISTORY (QUERY_ID, QUERY_TEXT, DATABASE_NAME, SCHEMA_NAME, QUERY_TYPE, SESSION_ID,
            USER_NAME, ROLE_NAME, WAREHOUSE_ID, WAREHOUSE_NAME, WAREHOUSE_SIZE, WAREHOUSE_TYPE, QUERY_TAG,
            EXECUTION_STATUS, ERROR_CODE, START_TIME, END_TIME, TOTAL_ELAPSED_TIME, COMPILATION_TIME,
            EXECUTION_TIME, QUEUED_PROVISIONING_TIME, QUEUED_REPAIR_TIME, QUEUED_OVERLOAD_TIME,
            LIST_EXTERNAL_FILES_TIME, BYTES_SCANNED, PERCENTAGE_SCANNED_FROM_CACHE, PARTITIONS_SCANNED,
            PARTITIONS_TOTAL, BYTES_SPILLED_TO_LOCAL_STORAGE, BYTES_SPILLED_TO_REMOTE_STORAGE, ROWS_PRODUCED,
            ROWS_UNLOADED, BYTES_WRITTEN_TO_RESULT, CREDITS_USED_CLOUD_SERVICES, QUERY_HASH,
            QUERY_PARAMETERIZED_HASH, ROLE_TYPE, USER_TYPE)
        SELECT 'cost-' || LPAD(TO_VARCHAR(s), 10, '0'),
               'SELECT * FROM ANALYTICS.PUBLIC.T' || TO_VARCHAR(MOD(s, 37)) || ' WHERE id = ' || TO_VARCHAR(s)
                   || IFF(MOD(s, 101) = 1, REPEAT(' ', 10000)
                          || '/* {{"app": "dbt", "node_id": "model.shop.customers", "target_name": "prod"}} */', ''),
               'ANALYTICS', 'PUBLIC', 'SELECT', 100000 + MOD(s, 500),
               'USER_' || TO_VARCHAR(MOD(s, 7) + 1), IFF(MOD(s, 7) < 3, 'ANALYST', 'TRANSFORMER'),
               w, {name_of}, {size_of}, 'STANDARD',
               CASE WHEN MOD(s, 10) = 0 THEN '{{"app": "dbt", "node_id": "model.shop.orders_' || TO_VARCHAR(MOD(s, 3))
                                             || '", "invocation_id": "inv' || TO_VARCHAR(FLOOR(s / 1000)) || '"}}'
                    WHEN MOD(s, 10) = 5 THEN 'finance' END,
               IFF(MOD(s, 41) = 0, 'FAIL', 'SUCCESS'), IFF(MOD(s, 41) = 0, '000630', NULL),
               st, DATEADD(millisecond, comp + qprov + qover + ex, st), comp + qprov + qover + ex, comp, ex,
               qprov, 0, qover, 0, scanned, IFF(w = 3, 0.0, MOD(s, 10) / 10.0),
               IFF(w = 3, ptotal, FLOOR(ptotal / 10)), ptotal,
               IFF(MOD(s, 4) = 0, scanned / 2, 0), IFF(w = 2 AND MOD(FLOOR(s / {nwh}), 3) = 0, scanned * 2, 0),
               MOD(s * 31, 10000), 0, MOD(s * 31, 10000) * 100,
               ROUND(MOD(s, 50) / 100000.0, 9), 'qh' || TO_VARCHAR(MOD(s, 113)), 'ph' || TO_VARCHAR(MOD(s, 37)),
               'ROLE', 'PERSON'
        FROM (
            SELECT s, MOD(s, {nwh}) + 1 AS w,
                   DATEADD(second, FLOOR(s / {qpd}) * 86400 + MOD(s * 7919, 82800), {t0}) AS st,
                   50 + MOD(s * 13, 900) AS comp,
                   IFF(MOD(s, 50) = 0, 1500, 0) AS qprov,
                   IFF(MOD(s, {nwh}) + 1 = 2, 5000 + MOD(s, 30000), 0) AS qover,
                   IFF(MOD(s, 97) = 0, 7200000, 200 + MOD(s * 37, 120000)) AS ex,
                   1000000 * (1 + MOD(s * 11, 5000)) AS scanned,
                   100 + MOD(s * 17, 5000) AS ptotal
            FROM (SELECT SEQ4() AS s FROM TABLE(GENERATOR(ROWCOUNT => {n})))
        )""")
    cursor.execute(f"""
        INSERT INTO {AU}.QUERY_ATTRIBUTION_HISTORY
        SELECT QUERY_ID, NULL, NULL, WAREHOUSE_ID, WAREHOUSE_NAME, QUERY_HASH, QUERY_PARAMETERIZED_HASH, QUERY_TAG,
               USER_NAME, START_TIME, END_TIME,
               ROUND(EXECUTION_TIME / 3600000.0 * {_case(credits, "WAREHOUSE_ID", 1)}, 9),
               IFF(MOD(EXECUTION_TIME, 29) = 0, 0.001, 0)
        FROM {AU}.QUERY_HISTORY
        WHERE WAREHOUSE_ID <> 3 AND EXECUTION_TIME >= 1000 AND EXECUTION_STATUS = 'SUCCESS'""")
    cursor.execute(
        f"INSERT INTO {AU}.QUERY_HISTORY SELECT * FROM {AU}.QUERY_HISTORY "
        f"WHERE QUERY_ID IN ('cost-0000000000', 'cost-0000000001', 'cost-0000000002')"
    )

    # ------------------------------------------------ warehouse load (hourly)
    cursor.execute(f"""
        INSERT INTO {AU}.WAREHOUSE_LOAD_HISTORY
        SELECT DATEADD(hour, h, {t0}), DATEADD(hour, h + 1, {t0}), w, {name_of},
               (20 + MOD(h * 3 + w, 60)) / 100.0, IFF(w = 2, 1.5, 0.0), IFF(MOD(h, 24) = 8, 0.05, 0.0), 0.0
        FROM (SELECT MOD(SEQ4(), {nwh}) + 1 AS w, FLOOR(SEQ4() / {nwh}) AS h
              FROM TABLE(GENERATOR(ROWCOUNT => {hours * nwh})))""")

    # ------------------------------------------------ storage
    d0 = f"TO_DATE({t0})"
    cursor.execute(f"""
        INSERT INTO {AU}.DATABASE_STORAGE_USAGE_HISTORY
        SELECT DATEADD(day, d, {d0}), db, {_case({1: "ANALYTICS", 2: "RAW", 3: "ARCHIVE"}, "db", "?")},
               NULL, {_case({1: 8 * TB, 2: 20 * TB, 3: 42 * TB}, "db", 0)} + d * db * 10000000000,
               {_case({1: TB // 2, 2: TB, 3: 2 * TB}, "db", 0)}, 0
        FROM (SELECT MOD(SEQ4(), 3) + 1 AS db, FLOOR(SEQ4() / 3) AS d
              FROM TABLE(GENERATOR(ROWCOUNT => {days * 3})))""")
    cursor.execute(f"""
        INSERT INTO {AU}.STORAGE_USAGE
        SELECT USAGE_DATE, SUM(AVERAGE_DATABASE_BYTES), {TB}, SUM(AVERAGE_FAILSAFE_BYTES), 0, 0, 0, 0
        FROM {AU}.DATABASE_STORAGE_USAGE_HISTORY GROUP BY USAGE_DATE""")
    cursor.execute(f"""
        INSERT INTO {AU}.TABLE_STORAGE_METRICS (ID, TABLE_NAME, TABLE_SCHEMA_ID, TABLE_SCHEMA, TABLE_CATALOG_ID,
            TABLE_CATALOG, IS_TRANSIENT, ACTIVE_BYTES, TIME_TRAVEL_BYTES, FAILSAFE_BYTES, RETAINED_FOR_CLONE_BYTES,
            DELETED, TABLE_CREATED, TABLE_DROPPED)
        SELECT 100 + t, 'T' || TO_VARCHAR(t), 10, 'PUBLIC', 1, 'ANALYTICS', IFF(MOD(t, 9) = 0, 'YES', 'NO'),
               (1 + MOD(t * 7, 20)) * 10000000000, (1 + MOD(t * 7, 20)) * 1000000000,
               (1 + MOD(t * 7, 20)) * 2000000000, 0, FALSE, DATEADD(day, -400 + t, {t0}), NULL
        FROM (SELECT SEQ4() AS t FROM TABLE(GENERATOR(ROWCOUNT => 37)))""")
    cursor.execute(f"""
        INSERT INTO {AU}.TABLE_STORAGE_METRICS (ID, TABLE_NAME, TABLE_SCHEMA_ID, TABLE_SCHEMA, TABLE_CATALOG_ID,
            TABLE_CATALOG, IS_TRANSIENT, ACTIVE_BYTES, TIME_TRAVEL_BYTES, FAILSAFE_BYTES, RETAINED_FOR_CLONE_BYTES,
            DELETED, TABLE_CREATED, TABLE_DROPPED)
        VALUES (9001, 'EVENTS_2019', 30, 'PUBLIC', 3, 'ARCHIVE', 'NO', {40 * TB}, 0, {2 * TB}, 0, FALSE,
                DATEADD(day, -900, {t0}), NULL),
               (9002, 'CLICKSTREAM', 20, 'PUBLIC', 2, 'RAW', 'NO', {2 * TB}, {12 * TB}, {TB}, 0, FALSE,
                DATEADD(day, -300, {t0}), NULL),
               (9003, 'OLD_STAGING', 20, 'PUBLIC', 2, 'RAW', 'YES', 0, 0, {TB // 4}, 0, TRUE,
                DATEADD(day, -200, {t0}), DATEADD(day, -10, {t0}))""")

    # ------------------------------------------------ the SHOW WAREHOUSES stand-in
    cursor.execute(f"""CREATE OR REPLACE TABLE {SHOW_WAREHOUSES_TABLE} (
        "name" VARCHAR, "state" VARCHAR, "type" VARCHAR, "size" VARCHAR, "min_cluster_count" NUMBER,
        "max_cluster_count" NUMBER, "auto_suspend" NUMBER, "auto_resume" VARCHAR, "resource_monitor" VARCHAR,
        "scaling_policy" VARCHAR, "owner" VARCHAR)""")
    values = ", ".join(
        f"('{names[w]}', 'SUSPENDED', 'STANDARD', '{sizes[w]}', 1, {2 if w == 2 else 1}, "
        f"{3600 if w == 1 else (0 if w == 3 else 60)}, 'true', "
        f"'{'null' if w == 1 else 'ACCOUNT_MONITOR'}', 'STANDARD', 'SYSADMIN')"
        for w in range(1, nwh + 1)
    )
    cursor.execute(f"INSERT INTO {SHOW_WAREHOUSES_TABLE} VALUES {values}")
    register_show_feed()

    counts: dict[str, int] = {}
    for view in DDL:
        cursor.execute(f"SELECT COUNT(*) FROM {AU}.{view}")
        counts[view] = int(cursor.fetchone()[0])
    return counts


def register_show_feed() -> None:
    """Locally, SHOW WAREHOUSES reads the stand-in table (fakesnow answers one canned row)."""
    # the Snowflake client (and its connector) load only when the fake account is seeded
    from snowwatch.snowflake.client import register_show_feed as register

    register("WAREHOUSES", lambda session: session.fetch(f"SELECT * FROM {SHOW_WAREHOUSES_TABLE}"))


def seed_organization_usage(cursor: Any, now: datetime, days: int, rate: float = 2.5) -> int:
    """Optional: ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY for the warehouse metering days (tests)."""
    cursor.execute(
        """CREATE OR REPLACE TABLE SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY (
        ORGANIZATION_NAME VARCHAR, CONTRACT_NUMBER NUMBER, ACCOUNT_NAME VARCHAR, ACCOUNT_LOCATOR VARCHAR,
        REGION VARCHAR, SERVICE_LEVEL VARCHAR, USAGE_DATE DATE, USAGE_TYPE VARCHAR, CURRENCY VARCHAR,
        USAGE NUMBER(38,9), USAGE_IN_CURRENCY NUMBER(38,9), BALANCE_SOURCE VARCHAR)"""
    )
    cursor.execute(f"""
        INSERT INTO SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY
        SELECT 'DEMO', 1, 'FAKESNOW', 'FAKESNOW', 'AWS_US_EAST_1', 'Enterprise', USAGE_DATE, 'compute', 'USD',
               SUM(CREDITS_BILLED), SUM(CREDITS_BILLED) * {rate}, 'capacity'
        FROM {AU}.METERING_DAILY_HISTORY GROUP BY USAGE_DATE""")
    cursor.execute("SELECT COUNT(*) FROM SNOWFLAKE.ORGANIZATION_USAGE.USAGE_IN_CURRENCY_DAILY")
    return int(cursor.fetchone()[0])
