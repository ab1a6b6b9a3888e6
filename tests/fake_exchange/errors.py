"""Binance error replies: the `ApiError` exception and the exact wording Binance uses.

Every handler in the fake raises `ApiError`; the REST layer turns it into an HTTP
reply `{"code": -NNNN, "msg": "..."}` with the status Binance uses (400 for most,
401 for key problems, 404 for unknown routes, 429 for rate limits, 503 for the
"execution status unknown" case). Messages are copied from Binance's USDⓈ-M error
code page and from live captures; where Binance has two wordings the live one is used.
"""
from __future__ import annotations


class ApiError(Exception):
    """A Binance error reply: HTTP `status`, negative `code` and Binance's `msg`."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


# Fixed messages, by code. Codes whose message has a parameter have a helper below.
MESSAGES: dict[int, str] = {
    -1000: "An unknown error occured while processing the request.",
    -1003: "Too many requests; current limit is %s requests per minute. Please use the websocket for live updates to avoid polling the API.",
    -1021: "Timestamp for this request is outside of the recvWindow.",
    -1022: "Signature for this request is not valid.",
    -1023: "Start time is greater than end time.",
    -1111: "Precision is over the maximum defined for this asset.",
    -1116: "Invalid orderType.",
    -1117: "Invalid side.",
    -1120: "Invalid interval.",
    -1121: "Invalid symbol.",
    -1125: "This listenKey does not exist.",
    -2011: "Unknown order sent.",
    -2013: "Order does not exist.",
    -2014: "API-key format invalid.",
    -2015: "Invalid API-key, IP, or permissions for action.",
    -2018: "Balance is insufficient.",
    -2019: "Margin is insufficient.",
    -2021: "Order would immediately trigger.",
    -2022: "ReduceOnly Order is rejected.",
    -4003: "Quantity less than zero.",
    -4004: "Quantity less than min quantity.",
    -4005: "Quantity greater than max quantity.",
    -4013: "Price less than min price.",
    -4014: "Price not increased by tick size.",
    -4015: "Client order id is not valid.",
    -4016: "Price is higher than mark price multiplier cap.",
    -4023: "Qty not increased by step size.",
    -4024: "Price is lower than mark price multiplier floor.",
    -4045: "Reach max stop order limit.",
    -4046: "No need to change margin type.",
    -4047: "Margin type cannot be changed if there exists open orders.",
    -4048: "Margin type cannot be changed if there exists position.",
    -4059: "No need to change position side.",
    -4061: "Order's position side does not match user's setting.",
    -4067: "Position side cannot be changed if there exists open orders.",
    -4068: "Position side cannot be changed if there exists position.",
    -4116: "clientOrderId is duplicated",
    -4118: "ReduceOnly Order Failed. Please check your existing position and open orders",
    -4120: "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
    -4130: "An open stop or take profit order with GTE and closePosition in the direction is existing.",
    -4137: "Quantity must be zero with closePosition equals true",
    -4142: "REJECT: take profit or stop order will be triggered immediately",
    -5021: "Due to the order could not be filled immediately, the FOK order has been rejected.",
    -5022: "Due to the order could not be executed as maker, the Post Only order will be rejected.",
}

# The body of an HTTP 503 whose execution status is UNKNOWN (binance.md §4.3). Binance
# documents the message, not the code; -1000 is the generic "unknown" code.
UNKNOWN_STATUS_MSG = "Unknown error, please check your request or try again later."


def error(code: int, status: int = 400) -> ApiError:
    """The `ApiError` for a code with a fixed message."""
    return ApiError(code, MESSAGES[code], status)


def mandatory(name: str) -> ApiError:
    return ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def invalid_param(name: str) -> ApiError:
    return ApiError(-1130, f"Data sent for parameter '{name}' is not valid.")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def min_notional(notional: str) -> ApiError:
    return ApiError(-4164, f"Order's notional must be no smaller than {notional} (unless you choose reduce only)")


def client_id_too_long() -> ApiError:
    # Live wording (testnet 2026-09): 36 characters are accepted despite "less than".
    return ApiError(-4015, "Client order id length should be less than 36 chars")


def invalid_leverage(value: str) -> ApiError:
    return ApiError(-4028, f"Leverage {value} is not valid")


def too_many_requests(limit: int) -> ApiError:
    return ApiError(-1003, MESSAGES[-1003] % limit, status=429)


def unknown_route(method: str, path: str) -> ApiError:
    return ApiError(-5000, f"Path {path}, Method {method} is invalid", status=404)
