"""The one error type raised by the Plugg.to client."""

# Codes let callers branch without parsing messages.
CREDENTIALS_REJECTED = "credentials_rejected"
NOT_CONFIGURED = "not_configured"
NOT_FOUND = "not_found"
REJECTED = "rejected"
THROTTLED = "throttled"
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
SERVER_ERROR = "server_error"
BAD_RESPONSE = "bad_response"


class PluggtoError(Exception):
    """A failed exchange with Plugg.to.

    ``message`` is short pt-BR text for the merchant, ``detail`` the technical
    reason for the logs and the details page, ``permanent`` whether retrying
    the same request can help.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        permanent: bool,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.request_sent = request_sent

    def __str__(self) -> str:
        return f"{self.message} ({self.detail})" if self.detail else self.message


class CredentialsRejected(PluggtoError):
    """Plugg.to refused the configured credentials."""

    def __init__(self, detail: str = "", status: int | None = 401) -> None:
        super().__init__(
            "Credenciais recusadas pelo Plugg.to. Confira-as em Configurações.",
            code=CREDENTIALS_REJECTED,
            permanent=True,
            detail=detail,
            status=status,
        )


class NotConfigured(PluggtoError):
    """Credentials are missing, so no call can be made."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            "Credenciais do Plugg.to não configuradas: " + ", ".join(missing) + ".",
            code=NOT_CONFIGURED,
            permanent=True,
            request_sent=False,
        )
