import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, repoRoot, stackPaths } from './paths';
import { StackError, findJava, findPython, tryRun, which } from './toolchain';

/** Server versions the local stack installs. Change here, nowhere else. */
export const versions = {
  // Later CLI tags carry a go.mod replace directive that breaks `go install`.
  temporalCli: 'v1.5.1',
  // MinIO publishes no semver tags; this is the module version `@latest` resolved to.
  minio: 'v0.0.0-20260212201848-7aac2a2c5b7c',
  nessie: '0.99.0',
  // Nessie 0.99 is compiled for Java 21.
  nessieJava: 21,
  // Apache Iceberg, for the reference REST catalog and the Spark reader's runtime: 1.10.2 is only
  // partly on Maven Central (no iceberg-api or iceberg-aws jar), so 1.10.1 is the newest complete
  // 1.10.x. pyspark is pinned in test/readers/requirements.txt to the Spark these jars are built
  // for; Spark 3.5 runs on Java 17 at most.
  iceberg: '1.10.1',
  sparkScala: '3.5_2.12',
  sparkJava: 17,
};

/**
 * The reference REST catalog's runtime, as the iceberg-open-api build declares it for its test
 * fixtures (iceberg-open-api's published pom lists no dependencies): versions from that release's
 * libs.versions.toml. hadoop-common only for org.apache.hadoop.conf.Configuration, with upstream's
 * exclusions.
 */
function restCatalogPom(): string {
  const v = versions.iceberg;
  const dep = (g: string, a: string, version?: string, extra = '') =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId>${version ? `<version>${version}</version>` : ''}${extra}</dependency>`;
  const hadoopExclusions = [
    'org.slf4j:*',
    'ch.qos.reload4j:*',
    'org.apache.avro:avro',
    'com.google.guava:*',
    'com.google.protobuf:*',
    'org.apache.curator:*',
    'org.apache.zookeeper:*',
    'org.apache.kerby:*',
    'org.apache.hadoop.thirdparty:hadoop-shaded-protobuf_3_7',
    'org.eclipse.jetty:*',
    'com.google.re2j:re2j',
    'com.google.code.gson:gson',
    'com.jcraft:jsch',
    'com.google.code.findbugs:jsr305',
    'io.dropwizard.metrics:metrics-core',
    'dnsjava:dnsjava',
    'org.xerial.snappy:snappy-java',
    'commons-cli:commons-cli',
    'com.github.pjfanning:jersey-json',
  ]
    .map((ga) => ga.split(':'))
    .map(([g, a]) => `<exclusion><groupId>${g}</groupId><artifactId>${a}</artifactId></exclusion>`)
    .join('');
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.sf-iceberg</groupId>',
    '  <artifactId>iceberg-rest-catalog</artifactId>',
    `  <version>${v}</version>`,
    '  <packaging>pom</packaging>',
    '  <dependencyManagement><dependencies>',
    dep('software.amazon.awssdk', 'bom', '2.33.0', '<type>pom</type><scope>import</scope>'),
    '  </dependencies></dependencyManagement>',
    '  <dependencies>',
    dep('org.apache.iceberg', 'iceberg-open-api', v, '<classifier>test-fixtures</classifier>'),
    dep('org.apache.iceberg', 'iceberg-core', v),
    // RESTCatalogAdapter and RESTCatalogServlet live in iceberg-core's test jar.
    dep('org.apache.iceberg', 'iceberg-core', v, '<classifier>tests</classifier>'),
    dep('org.apache.iceberg', 'iceberg-aws', v),
    dep('software.amazon.awssdk', 's3'),
    dep('software.amazon.awssdk', 'sts'),
    // AwsProperties (loaded by S3FileIO) refers to KMS, Glue and DynamoDB types.
    dep('software.amazon.awssdk', 'kms'),
    dep('software.amazon.awssdk', 'glue'),
    dep('software.amazon.awssdk', 'dynamodb'),
    dep('software.amazon.awssdk', 'apache-client'),
    dep('software.amazon.awssdk', 'url-connection-client'),
    dep('org.apache.hadoop', 'hadoop-common', '3.4.1', `<exclusions>${hadoopExclusions}</exclusions>`),
    dep('org.eclipse.jetty', 'jetty-server', '11.0.26'),
    dep('org.eclipse.jetty', 'jetty-servlet', '11.0.26'),
    dep('org.xerial', 'sqlite-jdbc', '3.50.3.0'),
    dep('org.slf4j', 'slf4j-simple', '2.0.17'),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

function restCatalogDir(): string {
  return path.join(stackPaths.cacheJars, `iceberg-rest-${versions.iceberg}`);
}

/** Written last, so a download cut short is fetched again rather than half used. */
function restCatalogStamp(): string {
  return path.join(restCatalogDir(), '.complete');
}

export interface Tools {
  temporal: string;
  minio: string;
  nessieJar: string;
  /** java -cp value for the reference REST catalog (a directory wildcard). */
  restCatalogClasspath: string;
  java: string;
  python: string;
  /** JAVA_HOME of the Java the Spark reader runs on. */
  sparkJavaHome: string;
  /** The jars the Spark reader loads (spark.jars), comma-separated. */
  sparkJars: string;
}

type Step = { what: string; run: () => Promise<void> };

const readersRequirements = path.join(repoRoot, 'test', 'readers', 'requirements.txt');
const buildLogs = path.join(cacheDir, 'logs');

function cachedBinary(name: string): string | undefined {
  const candidate = path.join(stackPaths.cacheBin, name);
  return fs.existsSync(candidate) ? candidate : undefined;
}

function nessieJarPath(): string {
  return path.join(stackPaths.cacheJars, `nessie-quarkus-${versions.nessie}-runner.jar`);
}

/** Iceberg's Spark runtime and its AWS bundle (S3FileIO), fetched once into the cache like Nessie. */
export function sparkJarArtifacts(): { artifact: string; file: string }[] {
  return [`iceberg-spark-runtime-${versions.sparkScala}`, 'iceberg-aws-bundle'].map((name) => ({
    artifact: `org.apache.iceberg:${name}:${versions.iceberg}`,
    file: path.join(stackPaths.cacheJars, `${name}-${versions.iceberg}.jar`),
  }));
}

function requirementsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(readersRequirements)).digest('hex');
}

function venvStamp(): string {
  return path.join(stackPaths.venv, '.requirements.sha256');
}

function venvPython(): string {
  return path.join(stackPaths.venv, 'bin', 'python');
}

function venvIsCurrent(): boolean {
  try {
    return fs.readFileSync(venvStamp(), 'utf8').trim() === requirementsHash() && fs.existsSync(venvPython());
  } catch {
    return false;
  }
}

/** Runs a build step with its output in a log file; on failure the error carries the log's tail. */
async function runLogged(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  fs.mkdirSync(buildLogs, { recursive: true });
  const log = path.join(buildLogs, `${label}.log`);
  const fd = fs.openSync(log, 'w');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('exit', (status) => resolve(status ?? 1));
  }).finally(() => fs.closeSync(fd));
  if (code !== 0) {
    const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-30).join('\n');
    throw new StackError(`${label} failed (exit ${code}); full log: ${log}\n${tail}`);
  }
}

/**
 * Works out what is already present (PATH, then cache) and what must be installed, checking every
 * toolchain the missing pieces need before anything long starts: all problems are reported at once.
 * `temporalOnly`: just the Temporal CLI (what the orchestration tests start their dev servers with).
 */
export function planInstall(options: { readers: boolean; restCatalog?: boolean; temporalOnly?: boolean }): { tools: Partial<Tools>; steps: Step[] } {
  const problems: string[] = [];
  const steps: Step[] = [];
  const tools: Partial<Tools> = {};
  const go = which('go');

  const goInstall = (name: string, pkg: string, approx: string): Step => ({
    what: `building ${name} with go install ${pkg} (first run only, about ${approx} on 2 cores)`,
    run: () => runLogged(`${name}-build`, go!, ['install', pkg], { GOBIN: stackPaths.cacheBin }),
  });

  const temporal = which('temporal') ?? cachedBinary('temporal');
  if (temporal) tools.temporal = temporal;
  else if (!go) problems.push('The Temporal CLI is not on PATH and Go is not installed to build it: install Go 1.22+ (https://go.dev/dl/), or put `temporal` on PATH.');
  else steps.push(goInstall('temporal', `github.com/temporalio/cli/cmd/temporal@${versions.temporalCli}`, '7 min'));
  if (options.temporalOnly) {
    if (problems.length > 0) throw new StackError(`The Temporal CLI cannot be installed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    tools.temporal ??= path.join(stackPaths.cacheBin, 'temporal');
    return { tools, steps };
  }

  const minio = which('minio') ?? cachedBinary('minio');
  if (minio) tools.minio = minio;
  else if (!go) problems.push('MinIO is not on PATH and Go is not installed to build it: install Go 1.24+ (https://go.dev/dl/), or put `minio` on PATH.');
  else steps.push(goInstall('minio', `github.com/minio/minio@${versions.minio}`, '4 min'));

  const java = findJava(versions.nessieJava);
  if (java) tools.java = java.path;
  else
    problems.push(
      `Nessie ${versions.nessie} needs Java ${versions.nessieJava} or newer and none was found (JAVA_HOME, PATH, /usr/lib/jvm): install a JDK ${versions.nessieJava}+ (e.g. Temurin) and/or set JAVA_HOME.`,
    );

  const jar = process.env.NESSIE_JAR ?? nessieJarPath();
  const m2Jar = path.join(os.homedir(), '.m2', 'repository', 'org', 'projectnessie', 'nessie', 'nessie-quarkus', versions.nessie, `nessie-quarkus-${versions.nessie}-runner.jar`);
  if (fs.existsSync(jar)) tools.nessieJar = jar;
  else if (process.env.NESSIE_JAR) problems.push(`NESSIE_JAR points to ${process.env.NESSIE_JAR}, which does not exist.`);
  else if (fs.existsSync(m2Jar)) {
    steps.push({
      what: `copying Nessie ${versions.nessie} from the local Maven repository`,
      run: async () => {
        fs.mkdirSync(stackPaths.cacheJars, { recursive: true });
        fs.copyFileSync(m2Jar, jar);
      },
    });
  } else if (!which('mvn'))
    problems.push(
      `Maven is needed once to fetch Nessie ${versions.nessie} from Maven Central: install Maven (apt-get install maven), or download org.projectnessie.nessie:nessie-quarkus:${versions.nessie}:jar:runner and set NESSIE_JAR.`,
    );
  else {
    steps.push({
      what: `fetching Nessie ${versions.nessie} from Maven Central (first run only)`,
      run: async () => {
        await runLogged('nessie-fetch', 'mvn', [
          '-q',
          '-B',
          'dependency:copy',
          `-Dartifact=org.projectnessie.nessie:nessie-quarkus:${versions.nessie}:jar:runner`,
          `-DoutputDirectory=${stackPaths.cacheJars}`,
        ]);
      },
    });
  }
  tools.nessieJar ??= jar;

  tools.restCatalogClasspath = path.join(restCatalogDir(), 'lib', '*');
  if (options.restCatalog && !fs.existsSync(restCatalogStamp())) {
    if (!which('mvn'))
      problems.push(
        `Maven is needed once to fetch Apache Iceberg's REST catalog ${versions.iceberg} and its dependencies from Maven Central: install Maven (apt-get install maven).`,
      );
    else
      steps.push({
        what: `fetching Apache Iceberg's REST catalog ${versions.iceberg} and its dependencies from Maven Central (first run only)`,
        run: async () => {
          const dir = restCatalogDir();
          fs.rmSync(path.join(dir, 'lib'), { recursive: true, force: true });
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, 'pom.xml'), restCatalogPom());
          await runLogged('rest-catalog-fetch', 'mvn', [
            '-q',
            '-B',
            '-f',
            path.join(dir, 'pom.xml'),
            'dependency:copy-dependencies',
            '-DincludeScope=runtime',
            `-DoutputDirectory=${path.join(dir, 'lib')}`,
          ]);
          fs.writeFileSync(restCatalogStamp(), `${new Date().toISOString()}\n`);
        },
      });
  }

  if (options.readers) {
    const python = findPython();
    if (!python) problems.push('Python 3.9+ with the venv module is needed for the independent readers (pyiceberg, DuckDB): install python3 and python3-venv.');
    else if (venvIsCurrent()) tools.python = venvPython();
    else {
      steps.push({
        what: `installing the readers' virtualenv (pyiceberg, duckdb + iceberg extension, pyspark) into ${stackPaths.venv}`,
        run: async () => {
          // pip updates an existing venv in place, far faster than building a new one.
          if (!fs.existsSync(venvPython())) await runLogged('readers-venv', python, ['-m', 'venv', stackPaths.venv]);
          await runLogged('readers-pip', venvPython(), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', readersRequirements]);
          fs.writeFileSync(venvStamp(), requirementsHash());
        },
      });
      tools.python = venvPython();
    }
  }

  if (options.readers) {
    const sparkJava = findJava(versions.sparkJava, versions.sparkJava);
    if (sparkJava) tools.sparkJavaHome = path.dirname(path.dirname(fs.realpathSync(sparkJava.path)));
    else
      problems.push(
        `The Spark reader needs Java ${versions.sparkJava} (Spark 3.5 runs on no later Java) and none was found (JAVA_HOME, PATH, /usr/lib/jvm): apt-get install openjdk-${versions.sparkJava}-jre-headless.`,
      );
    const jars = sparkJarArtifacts();
    const missing = jars.filter((j) => !fs.existsSync(j.file));
    if (missing.length > 0 && !which('mvn'))
      problems.push(
        `Maven is needed once to fetch ${missing.map((j) => j.artifact).join(' and ')} from Maven Central for the Spark reader: install Maven (apt-get install maven).`,
      );
    else if (missing.length > 0)
      steps.push({
        what: `fetching Iceberg ${versions.iceberg}'s Spark runtime and AWS bundle from Maven Central for the Spark reader (first run only)`,
        run: async () => {
          for (const jar of missing) {
            await runLogged('spark-jars-fetch', 'mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${jar.artifact}`, `-DoutputDirectory=${stackPaths.cacheJars}`]);
          }
        },
      });
    tools.sparkJars = jars.map((j) => j.file).join(',');
  }

  if (problems.length > 0) {
    throw new StackError(`The local stack cannot be set up:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  tools.temporal ??= path.join(stackPaths.cacheBin, 'temporal');
  tools.minio ??= path.join(stackPaths.cacheBin, 'minio');
  return { tools, steps };
}

/** Installs whatever is missing and returns where every tool is. */
export async function ensureInstalled(options: { readers: boolean; restCatalog?: boolean; temporalOnly?: boolean; log: (line: string) => void }): Promise<Tools> {
  const { tools, steps } = planInstall(options);
  for (const step of steps) {
    const started = Date.now();
    options.log(`  ${step.what} ...`);
    await step.run();
    options.log(`  done in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return tools as Tools;
}

/** One-line version of each installed server, for status output and notes. */
export function installedVersions(tools: Partial<Tools>): Record<string, string> {
  const out: Record<string, string> = {};
  // Built with go install, both report development versions; the Go module version is exact.
  const moduleVersion = (binary: string) => tryRun('go', ['version', '-m', binary])?.match(/\bmod\s+\S+\s+(\S+)/)?.[1];
  if (tools.temporal) {
    const own = (tryRun(tools.temporal, ['--version']) ?? '?').trim().replace(/^temporal version /, '');
    const mod = moduleVersion(tools.temporal);
    out.temporal = mod ? `CLI ${mod} ${own.replace(/^0\.0\.0-DEV\s*/, '')}` : own;
  }
  if (tools.minio) out.minio = moduleVersion(tools.minio) ?? (tryRun(tools.minio, ['--version']) ?? '?').split('\n')[0]!.trim();
  out.nessie = versions.nessie;
  out.icebergRestCatalog = versions.iceberg;
  if (tools.java) out.java = (tryRun(tools.java, ['-version']) ?? '?').split('\n')[0]!.trim();
  if (tools.sparkJars) out.icebergSpark = `${versions.iceberg} (Spark ${versions.sparkScala.split('_')[0]} reader)`;
  return out;
}
