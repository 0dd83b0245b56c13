"""Scrapy settings for isop's spiders: every crawl default lives here, in one place.

``isop crawl`` and ``scrapy crawl`` both start from this module; ``collector.crawl``
maps isop's TOML config onto the ``ISOP_*`` keys (proxy, resolvers, budgets, store), so
spiders never read the environment or the config file themselves.
"""

BOT_NAME = "isop"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = "isop/0.1.0 (+https://github.com/isop-project/isop)"

# Piracy sites publish no robots.txt rules for investigators, and evidence must show what
# any visitor sees; obeying robots.txt is a setting ([crawl] obey_robots).
ROBOTSTXT_OBEY = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Bounds: hostile pages must not hold the crawl.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = False  # meta refresh is read as a link of kind "redirect" instead
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 502, 503, 504, 522, 524, 408]
HTTPERROR_ALLOW_ALL = True  # 404s and 500s are evidence too
DEPTH_LIMIT = 4
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 10
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy starts this many tasks for every response to process its output in parallel; a
# page yields one item and a few dozen requests, and 100 (the default) costs more than it gains.
CONCURRENT_ITEMS = 16
DNS_TIMEOUT = 10

# Rendering: only requests with meta["playwright"] pay for a browser.
DOWNLOAD_HANDLERS = {
    "http": "spiders.render.SharedPlaywrightHandler",
    "https": "spiders.render.SharedPlaywrightHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 20_000
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
             "--disable-domain-reliability", "--no-pings"],
}
# Certificates are not what a crawl judges (TLS facts come from enrichment), as with
# Scrapy's own HTTPS client, which does not verify either.
# No start-up context: the browser starts with the first page to render (spiders.render.render_meta).

SPIDER_MIDDLEWARES = {
    "spiders.budget.CrawlBudget": 650,
}
DOWNLOADER_MIDDLEWARES = {
    "spiders.proxy.ConfiguredProxy": 740,
    "spiders.egress.EgressWatch": 760,
}
ITEM_PIPELINES = {
    "spiders.pipelines.ClassifyPipeline": 300,
    "spiders.pipelines.EvidencePipeline": 500,
    "spiders.pipelines.StorePipeline": 800,
}
EXTENSIONS = {
    "spiders.progress.Progress": 500,
    "spiders.runs.RunRecorder": 100,
}

# isop's own settings (prefix ISOP_); collector.crawl fills them from the TOML config.
ISOP_STORAGE_URL = "sqlite:///data/isop.db"
ISOP_RUN_ID = 0
ISOP_EVIDENCE_DIR = "data/evidence"
ISOP_PROXY = ""
ISOP_RESOLVERS = []
ISOP_DNS_TIMEOUT = 3.0
ISOP_MAX_PAGES = 2000
ISOP_SITE_PAGES = 40
ISOP_VERDICT_PAGES = 40
ISOP_TARGETED_PAGES = 300
ISOP_URL_SHAPE_LIMIT = 30
ISOP_MAX_URL_LENGTH = 1024
ISOP_MAX_PATH_DEPTH = 12
ISOP_RENDER_ENABLED = True
ISOP_RENDER_MAX_PAGES = 50
ISOP_RENDER_PER_SITE = 3
ISOP_SUCCESSOR_PROBES = 5
ISOP_ANALYSIS_WORKERS = -1  # page-analysis worker processes; -1: one per spare core (1-4), 0: inline
REMOTE_CONTROL_ENABLED = False  # Scrapy's HTTP control server: not wanted on an analyst's machine
ISOP_STORE_BATCH = 200
ISOP_STORE_FLUSH_SECONDS = 2.0
ISOP_PROGRESS = False
