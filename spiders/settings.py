"""Scrapy settings for isop's spiders: every crawl default lives here, in one place.

``isop crawl`` and ``scrapy crawl`` both start from this module; ``collector.crawl``
maps isop's TOML config onto the ``ISOP_*`` keys (proxy, resolvers, budgets, store), so
spiders never read the environment or the config file themselves.
"""

BOT_NAME = "isop"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

from spiders import browser_privacy  # noqa: E402

# A mainstream browser's, for Scrapy and the browser alike ([network] user_agent and
# attributable; spiders.render gives the browser the same one).
USER_AGENT = browser_privacy.BROWSER_USER_AGENT

# Piracy sites publish no robots.txt rules for investigators, and evidence must show what
# any visitor sees; obeying robots.txt is a setting ([crawl] obey_robots).
ROBOTSTXT_OBEY = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Bounds: hostile pages must not hold the crawl.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024  # larger pages are cut there and kept as truncated (spiders/truncation.py)
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
# Scrapy's downloader-aware queue, with JOBDIR folder names that fit a file system even
# for 253-character host names (spiders/queues.py).
SCHEDULER_PRIORITY_QUEUE = "spiders.queues.BoundedPathPriorityQueue"
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
    # Chromium's own services all off (spiders.browser_privacy documents every switch; the
    # proxy, resolver rules, User-Agent and profile preferences are added at launch by
    # spiders.render from ISOP_PROXY and USER_AGENT).
    "args": ["--no-sandbox", "--disable-gpu", *browser_privacy.SWITCHES],
}
# Certificates are not what a crawl judges (TLS facts come from enrichment), as with
# Scrapy's own HTTPS client, which does not verify either.
# No start-up context: the browser starts with the first page to render (spiders.render.render_meta).

SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "spiders.depth.SamePageDepth": 900,  # a page rendered again keeps its depth
    "spiders.budget.CrawlBudget": 650,
}
DOWNLOADER_MIDDLEWARES = {
    # Offline public-suffix checks and bounded cookie jars (spiders/cookies.py), in Scrapy's place.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "spiders.cookies.BoundedCookies": 700,
    # Per-site time budget and per-site cap on timeout retries (spiders/site_time.py): just
    # outside Scrapy's RetryMiddleware (550), so it sees a timeout before the retry does.
    "spiders.site_time.SiteTime": 560,
    # Over DOWNLOAD_MAXSIZE a page is cut and kept as truncated, never dropped, and so is a
    # decompression bomb (spiders/truncation.py): in the place of HttpCompressionMiddleware (590).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "spiders.truncation.BoundedDecompression": 590,
    "spiders.truncation.ResponseCap": 595,
    "spiders.proxy.ConfiguredProxy": 740,
    # Never a destination on our own network: loopback, private, link-local, reserved
    # addresses in any spelling, local names (spiders/destinations.py); after the proxy is set.
    "spiders.destinations.DestinationGuard": 745,
    "spiders.egress.EgressWatch": 760,
}
# The same rules for what rendered pages load in the browser (Chromium goes to loopback
# directly even with a proxy set).
PLAYWRIGHT_ABORT_REQUEST = "spiders.destinations.abort_browser_request"
ITEM_PIPELINES = {
    "spiders.pipelines.ClassifyPipeline": 300,
    "spiders.pipelines.EvidencePipeline": 500,
    "spiders.pipelines.StorePipeline": 800,
}
EXTENSIONS = {
    "spiders.progress.Progress": 500,
    "spiders.runs.RunRecorder": 100,
    "spiders.shutdown.PromptStop": 510,  # a stopping crawl sends nothing new (Ctrl-C, SIGTERM)
}

# isop's own settings (prefix ISOP_); collector.crawl fills them from the TOML config.
ISOP_STORAGE_URL = "sqlite:///data/isop.db"
ISOP_RUN_ID = 0
ISOP_EVIDENCE_DIR = "data/evidence"
ISOP_PROXY = ""
ISOP_ALLOW_DESTINATIONS = []  # CIDR ranges a crawl may fetch although not public ([network] allow_destinations)
ISOP_RESOLVERS = []
ISOP_DNS_TIMEOUT = 3.0
ISOP_MAX_PAGES = 2000
ISOP_SITE_PAGES = 40
ISOP_HASH_DOWNLOADS_UP_TO = 200 * 1024 * 1024  # downloads are hashed whole up to this size, streamed
ISOP_HASH_BUDGET_BYTES = 2 * 1024**3  # bytes one crawl reads for hashing, all downloads together
ISOP_VERDICT_PAGES = 40
ISOP_TARGETED_PAGES = 300
ISOP_URL_SHAPE_LIMIT = 30
ISOP_SITE_SECONDS = 600.0  # time budget per site from its first request; 0: none (spiders/site_time.py)
ISOP_SITE_TIMEOUT_RETRIES = 1  # retries of timeouts per site, all its requests together
ISOP_COOKIES_PER_SITE = 50  # cookies kept per site (spiders/cookies.py)
ISOP_COOKIE_HEADER_BYTES = 8192  # largest Cookie request header
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
