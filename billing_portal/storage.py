from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files whose ES module imports (`from "./poll.js"`) point at the
    hashed names too, so a page never runs one version of a module with another's import."""

    support_js_module_import_aggregation = True
