"""Independent readers of our Iceberg tables: pyiceberg, DuckDB's iceberg extension and Spark.

The tests call this with the connection settings of the local stack in the environment
(ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE, S3_*) and read its JSON from stdout, so what a table
holds is checked by code we did not write. DuckDB's extensions are loaded from their pip
packages and Spark's Iceberg jars from the files in SPARK_JARS (spark.jars, fetched by the stack's
install step; JAVA_HOME a Java 17): nothing is downloaded at run time.

  python iceberg_readers.py namespaces
  python iceberg_readers.py read --reader pyiceberg|duckdb|spark NAMESPACE TABLE
      [--snapshot-id ID]   (spark: time travel, VERSION AS OF)
      [--metadata]         (spark: also its snapshots, history, files and manifests tables,
                            under "metadata")
  python iceberg_readers.py serve
      (a long-lived process: one {"argv": [...], "env": {...}} request per stdin line, one
      answer per stdout line; "env" names another catalog for that command alone)
  python iceberg_readers.py sql NAMESPACE TABLE STATEMENT...
      (Spark as a writer: {table}, {namespace} and {catalog} in the statements name them)
  python iceberg_readers.py plan NAMESPACE TABLE --column C --from T --to T
      (pyiceberg plan_files with C >= T and C < T: data files planned, of all the live ones)
  python iceberg_readers.py scan --reader pyiceberg|duckdb NAMESPACE TABLE --column C --from T --to T [--runs N]
      (the rows with C >= T and C < T, read N times: seconds of each read and their median)
  python iceberg_readers.py write-sample NAMESPACE TABLE      (pyiceberg creates and appends)
  python iceberg_readers.py drop NAMESPACE [TABLE]
"""

import argparse
import base64
import datetime
import decimal
import glob
import json
import os
import site
import sys
import time
import uuid


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run `npm run stack -- up` or set it")
    return value


def static_keys():
    """Whether the environment gives S3 keys; without them every reader uses only what the catalog
    vends for a table (credentials, or remote signing)."""
    return bool(os.environ.get("S3_ACCESS_KEY_ID") and os.environ.get("S3_SECRET_ACCESS_KEY"))


def catalog():
    from pyiceberg.catalog import load_catalog

    props = {
        "type": "rest",
        "uri": env("ICEBERG_CATALOG_URI"),
        "warehouse": env("ICEBERG_WAREHOUSE"),
        "s3.endpoint": env("S3_ENDPOINT"),
        "s3.region": os.environ.get("S3_REGION", "us-east-1"),
        "s3.path-style-access": os.environ.get("S3_PATH_STYLE", "true"),
    }
    if static_keys():
        props["s3.access-key-id"] = env("S3_ACCESS_KEY_ID")
        props["s3.secret-access-key"] = env("S3_SECRET_ACCESS_KEY")
    else:
        # Ask for vended credentials; fsspec's S3 file IO also signs through the catalog
        # (s3.remote-signing-enabled) where pyarrow's cannot.
        props["header.X-Iceberg-Access-Delegation"] = "vended-credentials,remote-signing"
        props["py-io-impl"] = "pyiceberg.io.fsspec.FsspecFileIO"
    if os.environ.get("ICEBERG_TOKEN"):
        props["token"] = os.environ["ICEBERG_TOKEN"]
    return load_catalog("lake", **props)


def load_table(cat, identifier):
    """A table whose file IO signs through the catalog when the catalog answered so: pyiceberg's fsspec
    IO signs only with s3.signer set, which no catalog sends (they send s3.remote-signing-enabled)."""
    from pyiceberg.io import load_file_io

    tbl = cat.load_table(identifier)
    props = tbl.io.properties
    if props.get("s3.remote-signing-enabled") == "true" and not props.get("s3.signer"):
        tbl.io = load_file_io({**props, "s3.signer": "S3V4RestSigner"}, tbl.metadata.location)
        share_file_systems(tbl.io)
    return tbl


def share_file_systems(io):
    """One file system per scheme for all of a scan's threads. pyiceberg's fsspec IO builds one per
    thread, and each build re-registers the signer on the S3 client that fsspec shares across
    threads: a request signed in between goes out unsigned and S3 answers 403 (iceberg-python#3896)."""
    import threading

    lock = threading.Lock()
    built = {}
    per_thread = io.get_fs

    def get_fs(scheme, hostname=None):
        with lock:
            if (scheme, hostname) not in built:
                built[(scheme, hostname)] = per_thread(scheme, hostname)
            return built[(scheme, hostname)]

    io.get_fs = get_fs


def duckdb_connection():
    import duckdb

    con = duckdb.connect()
    # timestamptz values come back as UTC instants whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    roots = site.getsitepackages() + [site.getusersitepackages()]
    for name in ("avro", "httpfs", "iceberg"):
        found = [p for root in roots for p in glob.glob(f"{root}/duckdb_extension_{name}/extensions/*/{name}.duckdb_extension")]
        if not found:
            sys.exit(f"DuckDB extension {name} is not installed (pip package duckdb-extension-{name})")
        con.execute(f"LOAD '{found[0]}'")
    auth = "AUTHORIZATION_TYPE 'none'"
    if os.environ.get("ICEBERG_TOKEN"):
        auth = f"TOKEN {quote(os.environ['ICEBERG_TOKEN'])}"
    if not static_keys():
        # Only what the catalog vends: DuckDB takes a table's vended credentials (it has no remote signing).
        con.execute(
            f"ATTACH {quote(env('ICEBERG_WAREHOUSE'))} AS lake "
            f"(TYPE iceberg, ENDPOINT {quote(env('ICEBERG_CATALOG_URI'))}, {auth}, ACCESS_DELEGATION_MODE 'vended_credentials')"
        )
        return con
    endpoint = env("S3_ENDPOINT")
    use_ssl = endpoint.startswith("https://")
    host = endpoint.split("://", 1)[-1].rstrip("/")
    con.execute(
        "CREATE SECRET lake_s3 (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE ?, USE_SSL ?)".replace("?", "{}").format(
            quote(env("S3_ACCESS_KEY_ID")),
            quote(env("S3_SECRET_ACCESS_KEY")),
            quote(os.environ.get("S3_REGION", "us-east-1")),
            quote(host),
            quote("path" if os.environ.get("S3_PATH_STYLE", "true") == "true" else "vhost"),
            "true" if use_ssl else "false",
        )
    )
    # Access delegation off: DuckDB uses the S3 secret above, not the catalog's S3 config.
    con.execute(
        f"ATTACH {quote(env('ICEBERG_WAREHOUSE'))} AS lake "
        f"(TYPE iceberg, ENDPOINT {quote(env('ICEBERG_CATALOG_URI'))}, {auth}, ACCESS_DELEGATION_MODE 'none')"
    )
    return con


def quote(text):
    return "'" + str(text).replace("'", "''") + "'"


def ident(text):
    return '"' + str(text).replace('"', '""') + '"'


def plain(value):
    """One JSON form per type, the same for both readers, so their outputs compare directly."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value else "NaN"
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return value.isoformat(timespec="microseconds") + "Z"
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def read_pyiceberg(namespace, table):
    tbl = load_table(catalog(), (namespace, table))
    arrow = tbl.scan().to_arrow()
    columns = [{"name": f.name, "type": str(f.field_type), "required": f.required, "id": f.field_id, "doc": f.doc} for f in tbl.schema().fields]
    rows = [{k: plain(v) for k, v in row.items()} for row in arrow.to_pylist()]
    snapshot = tbl.current_snapshot()
    return {
        "reader": "pyiceberg",
        "columns": columns,
        "rows": rows,
        "snapshot_id": str(snapshot.snapshot_id) if snapshot else None,
        "snapshots": len(tbl.metadata.snapshots),
        "sequence_number": snapshot.sequence_number if snapshot else 0,
        "summary": dict(snapshot.summary.additional_properties, operation=str(snapshot.summary.operation.value)) if snapshot else None,
        "properties": dict(tbl.properties),
    }


def read_duckdb(namespace, table):
    con = duckdb_connection()
    cur = con.execute(f"SELECT * FROM lake.{ident(namespace)}.{ident(table)}")
    names = [d[0] for d in cur.description]
    types = [str(d[1]) for d in cur.description]
    rows = [{n: plain(v) for n, v in zip(names, row)} for row in cur.fetchall()]
    return {"reader": "duckdb", "columns": [{"name": n, "type": t} for n, t in zip(names, types)], "rows": rows}


_spark = None
_spark_seconds = None


def spark_session():
    """One local Spark per process (its JVM takes seconds to start), sized for a shared machine."""
    global _spark, _spark_seconds
    if _spark is not None:
        return _spark
    started = time.monotonic()
    from pyspark.sql import SparkSession

    jars = env("SPARK_JARS")
    # Local mode needs no network address: no lookup of this host's name.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    _spark = (
        SparkSession.builder.master("local[2]")
        .appName("iceberg-readers")
        .config("spark.jars", jars)
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # timestamptz values are instants; shown in UTC (see spark_plain).
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .getOrCreate()
    )
    _spark.sparkContext.setLogLevel("ERROR")
    _spark_seconds = round(time.monotonic() - started, 3)
    return _spark


_spark_catalogs = {}


def spark_catalog():
    """The Spark catalog for the catalog the environment names (ICEBERG_CATALOG_URI, ICEBERG_WAREHOUSE,
    ICEBERG_TOKEN): one per distinct catalog, registered on first use, so one session (one JVM) reads
    Nessie and the reference catalog alike."""
    spark = spark_session()
    key = (env("ICEBERG_CATALOG_URI"), env("ICEBERG_WAREHOUSE"), os.environ.get("ICEBERG_TOKEN"), static_keys())
    if key in _spark_catalogs:
        return _spark_catalogs[key]
    name = f"lake{len(_spark_catalogs)}"
    c = f"spark.sql.catalog.{name}"
    conf = {
        c: "org.apache.iceberg.spark.SparkCatalog",
        f"{c}.type": "rest",
        f"{c}.uri": key[0],
        f"{c}.warehouse": key[1],
        f"{c}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{c}.s3.endpoint": env("S3_ENDPOINT"),
        f"{c}.s3.path-style-access": os.environ.get("S3_PATH_STYLE", "true"),
        f"{c}.client.region": os.environ.get("S3_REGION", "us-east-1"),
        # Cached tables would hide commits made between two reads of one process.
        f"{c}.cache-enabled": "false",
    }
    if key[3]:
        conf[f"{c}.s3.access-key-id"] = env("S3_ACCESS_KEY_ID")
        conf[f"{c}.s3.secret-access-key"] = env("S3_SECRET_ACCESS_KEY")
    else:
        # Only what the catalog vends: a table's credentials, or its remote signer.
        conf[f"{c}.header.X-Iceberg-Access-Delegation"] = "vended-credentials,remote-signing"
    if key[2]:
        conf[f"{c}.token"] = key[2]
    for k, v in conf.items():
        spark.conf.set(k, v)
    _spark_catalogs[key] = name
    return name


def spark_table(namespace, table):
    return f"{spark_catalog()}.`{namespace}`.`{table}`"


def spark_plain(value, data_type):
    """Spark's Python values in the form of `plain`, by Spark type: timestamps come back naive (in
    the process's zone, UTC here), so they are made aware UTC instants first; structs by name."""
    from pyspark.sql.types import ArrayType, MapType, StructType, TimestampType

    if value is None:
        return None
    if isinstance(data_type, TimestampType):
        return plain(value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value)
    if isinstance(data_type, StructType):
        return {f.name: spark_plain(value[f.name], f.dataType) for f in data_type.fields}
    if isinstance(data_type, MapType):
        return {str(plain(k)): spark_plain(v, data_type.valueType) for k, v in value.items()}
    if isinstance(data_type, ArrayType):
        return [spark_plain(v, data_type.elementType) for v in value]
    return plain(value)


def exact_ids(value):
    """Snapshot ids exceed 2^53: as strings, so JSON readers keep them exact."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, dict):
        return {k: exact_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_ids(v) for v in value]
    return value


def spark_rows(df):
    fields = df.schema.fields
    return [{f.name: spark_plain(row[i], f.dataType) for i, f in enumerate(fields)} for row in df.collect()]


def spark_metadata_table(spark, name, meta):
    df = spark.table(f"{name}.{meta}")
    # `files`' readable_metrics repeats the bounds already listed, decoded.
    df = df.drop("readable_metrics") if "readable_metrics" in df.columns else df
    return exact_ids(spark_rows(df))


def read_spark(namespace, table, snapshot_id=None, metadata=False):
    # Spark's Python side runs in UTC too, so naive datetimes it builds are UTC wall times.
    os.environ["TZ"] = "UTC"
    time.tzset()
    spark = spark_session()
    name = spark_table(namespace, table)
    query = f"SELECT * FROM {name}" + (f" VERSION AS OF {int(snapshot_id)}" if snapshot_id else "")
    df = spark.sql(query)
    columns = [
        {"name": f.name, "type": f.dataType.simpleString(), "required": not f.nullable, "doc": f.metadata.get("comment")}
        for f in df.schema.fields
    ]
    result = {"reader": "spark", "columns": columns, "rows": spark_rows(df)}
    if metadata:
        result["metadata"] = {meta: spark_metadata_table(spark, name, meta) for meta in ("snapshots", "history", "files", "manifests")}
    return result


def spark_sql(namespace, table, statements):
    """Spark as a writer: runs SQL statements in which {table} and {namespace} name the table and its
    namespace in this catalog, and {catalog} the catalog; answers the last statement's rows and the table's snapshot after."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    spark = spark_session()
    name = spark_table(namespace, table)
    rows = []
    for statement in statements:
        df = spark.sql(statement.replace("{table}", name).replace("{namespace}", f"{spark_catalog()}.`{namespace}`").replace("{catalog}", spark_catalog()))
        rows = spark_rows(df)
    try:
        current = spark.sql(f"SELECT snapshot_id FROM {name}.history WHERE is_current_ancestor ORDER BY made_current_at DESC LIMIT 1").collect()
    except Exception:  # a statement that dropped the table, or one that made none
        current = []
    return {"reader": "spark", "rows": exact_ids(rows), "snapshot_id": str(current[0][0]) if current else None}


def range_filter(column, start, end):
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    # pyiceberg reads an instant's zone as an offset only ("Z" is refused).
    def instant(text):
        return text[:-1] + "+00:00" if text.endswith("Z") else text

    return And(GreaterThanOrEqual(column, instant(start)), LessThan(column, instant(end)))


def plan(namespace, table, column, start, end):
    """What pyiceberg's planning keeps for a range filter: the data files it would read (pruned by
    partition values, then by column bounds), beside every live data file of the table."""
    tbl = load_table(catalog(), (namespace, table))
    planned = list(tbl.scan(row_filter=range_filter(column, start, end)).plan_files())
    total = list(tbl.scan().plan_files())
    return {
        "planned": len(planned),
        "total": len(total),
        "planned_records": sum(t.file.record_count for t in planned),
        "total_records": sum(t.file.record_count for t in total),
        "planned_delete_files": len({d.file_path for t in planned for d in t.delete_files}),
        # Delete files that apply to any live data file, and the specs the data files are written with.
        "delete_files": len({d.file_path for t in total for d in t.delete_files}),
        "specs": sorted({t.file.spec_id for t in total}),
        # Each planned file's spec and partition tuple (values in the form of `plain`).
        "planned_partitions": sorted({json.dumps([t.file.spec_id, [plain(t.file.partition[i]) for i in range(len(t.file.partition))]]) for t in planned}),
    }


def scan(reader, namespace, table, column, start, end, runs):
    """Reads the rows of a range filter `runs` times with one reader (pyiceberg: scan with the filter
    into Arrow; DuckDB: SELECT * with the filter into Arrow); seconds of each read, planning included."""
    seconds = []
    rows = None
    if reader == "pyiceberg":
        tbl = load_table(catalog(), (namespace, table))
        for _ in range(runs):
            started = time.perf_counter()
            rows = tbl.scan(row_filter=range_filter(column, start, end)).to_arrow().num_rows
            seconds.append(time.perf_counter() - started)
    else:
        con = duckdb_connection()
        sql = f"SELECT * FROM lake.{ident(namespace)}.{ident(table)} WHERE {ident(column)} >= CAST(? AS TIMESTAMPTZ) AND {ident(column)} < CAST(? AS TIMESTAMPTZ)"
        for _ in range(runs):
            started = time.perf_counter()
            rows = con.execute(sql, [start, end]).fetch_arrow_table().num_rows
            seconds.append(time.perf_counter() - started)
    ordered = sorted(seconds)
    return {"reader": reader, "rows": rows, "runs": [round(s, 4) for s in seconds], "median_seconds": round(ordered[len(ordered) // 2], 4)}


def write_sample(namespace, table):
    """pyiceberg creates a table and appends rows: proves it can write through the catalog to S3."""
    import pyarrow as pa

    cat = catalog()
    cat.create_namespace_if_not_exists(namespace)
    schema = pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("amount", pa.decimal128(18, 2)),
            pa.field("modified", pa.timestamp("us", tz="UTC")),
        ]
    )
    tbl = cat.create_table((namespace, table), schema=schema)
    data = pa.table(
        {
            "id": ["001A", "001B", "001C"],
            "amount": [decimal.Decimal("12.50"), None, decimal.Decimal("-3.25")],
            "modified": [
                datetime.datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=datetime.timezone.utc),
                datetime.datetime(2026, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc),
                None,
            ],
        },
        schema=schema,
    )
    tbl.append(data)
    return {"rows": data.num_rows, "snapshot_id": str(tbl.current_snapshot().snapshot_id)}


def drop(namespace, table=None):
    cat = catalog()
    tables = [table] if table else [t[-1] for t in cat.list_tables(namespace)]
    for name in tables:
        cat.purge_table((namespace, name)) if hasattr(cat, "purge_table") else cat.drop_table((namespace, name))
    if not table:
        cat.drop_namespace(namespace)
    return {"dropped": tables}


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("namespaces")
    read = sub.add_parser("read")
    read.add_argument("--reader", choices=["pyiceberg", "duckdb", "spark"], required=True)
    read.add_argument("--snapshot-id")
    read.add_argument("--metadata", action="store_true")
    read.add_argument("namespace")
    read.add_argument("table")
    sample = sub.add_parser("write-sample")
    sample.add_argument("namespace")
    sample.add_argument("table")
    dropper = sub.add_parser("drop")
    dropper.add_argument("namespace")
    dropper.add_argument("table", nargs="?")
    planner = sub.add_parser("plan")
    scanner = sub.add_parser("scan")
    scanner.add_argument("--reader", choices=["pyiceberg", "duckdb"], required=True)
    scanner.add_argument("--runs", type=int, default=3)
    for p_ in (planner, scanner):
        p_.add_argument("namespace")
        p_.add_argument("table")
        p_.add_argument("--column", required=True)
        p_.add_argument("--from", dest="start", required=True)
        p_.add_argument("--to", dest="end", required=True)
    sql = sub.add_parser("sql")
    sql.add_argument("namespace")
    sql.add_argument("table")
    sql.add_argument("statements", nargs="+")
    sub.add_parser("serve")
    return p


def run(args):
    if args.command == "namespaces":
        return {
            "pyiceberg": sorted(".".join(ns) for ns in catalog().list_namespaces()),
            "duckdb": sorted(
                r[0]
                for r in duckdb_connection()
                .execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'lake'")
                .fetchall()
            ),
        }
    if args.command == "read":
        if args.reader == "spark":
            return read_spark(args.namespace, args.table, args.snapshot_id, args.metadata)
        if args.snapshot_id or args.metadata:
            sys.exit("--snapshot-id and --metadata are for --reader spark")
        return (read_pyiceberg if args.reader == "pyiceberg" else read_duckdb)(args.namespace, args.table)
    if args.command == "write-sample":
        return write_sample(args.namespace, args.table)
    if args.command == "sql":
        return spark_sql(args.namespace, args.table, args.statements)
    if args.command == "plan":
        return plan(args.namespace, args.table, args.column, args.start, args.end)
    if args.command == "scan":
        return scan(args.reader, args.namespace, args.table, args.column, args.start, args.end, args.runs)
    if args.command == "serve":
        return serve()
    return drop(args.namespace, args.table)


def answer(argv, overrides=None):
    """One command's result, or {"error": ...}; with its "seconds" (and "spark_start_seconds" on the
    command that started Spark). `overrides` are environment settings for this command only (e.g.
    another catalog's ICEBERG_CATALOG_URI)."""
    started, had_spark = time.monotonic(), _spark is not None
    saved = {k: os.environ.get(k) for k in overrides or {}}
    os.environ.update(overrides or {})
    try:
        result = run(parser().parse_args(argv))
    except (Exception, SystemExit) as e:  # one refusal (e.g. Spark's) must not hide the other answers
        # Java stack frames dropped: the message is what a person acts on.
        lines = [line for line in str(e).splitlines() if not line.lstrip().startswith("at ")]
        result = {"error": f"{type(e).__name__}: " + "\n".join(lines).strip()}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    result["seconds"] = round(time.monotonic() - started, 3)
    if _spark is not None and not had_spark:
        result["spark_start_seconds"] = _spark_seconds  # the JVM's start, within `seconds`
    return result


def serve():
    """A long-lived reader for a test file: one request per stdin line ({"argv": [...], "env": {...}}),
    one JSON answer per line, so Spark's JVM starts once for all of them. Answers go to the original
    stdout; anything else that writes to fd 1 (the JVM) goes to stderr."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        out.write(json.dumps(answer(request["argv"], request.get("env"))) + "\n")
        out.flush()
    return None


def main():
    result = run(parser().parse_args())
    if result is None:
        return
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
