"""News feeds: the RSS/Atom reader adapter (aiohttp + feedparser) behind ``ports.news.FeedReader``."""
