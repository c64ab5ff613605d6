"""Every request's Cloudflare calls follow the page policy of accounts.cloudflare."""

from accounts.cloudflare import page_calls


class CloudflarePageCalls:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with page_calls():
            return self.get_response(request)
