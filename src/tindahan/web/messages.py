"""The services' refusals in the reader's language.

A refusal carries a stable ``code`` and an English sentence written for integrators; a
person at a phone gets the sentence below for the codes people meet, translated like every
other string of the pages. Codes not listed here show the service's own sentence (they are
the rarer, more technical ones), so nothing is ever hidden.
"""

from __future__ import annotations

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.web.i18n import _


def refusal_text(refusal: RefusalError) -> str:
    texts = {
        "insufficient_funds": _("There is not enough money in the wallet for this."),
        "exceeds_credits": _("There is not enough money in the wallet for this."),
        "limit_exceeded": _("This is over a limit of your account level (KYC tier)."),
        "wallet_frozen": _("This wallet is frozen. Please contact Tindahan."),
        "wallet_closed": _("This wallet is closed."),
        "risk_review": _(
            "This is under review, for your safety. The money has not moved; we will let you know."
        ),
        "risk_blocked": _("This cannot be done. Please contact Tindahan."),
        "payee_is_payer": _("You cannot pay yourself."),
        "courier_missing": _("Choose a courier for this order."),
        "no_courier_for_address": _("None of this shop's couriers delivers this order here."),
        "weight_missing": _(
            "A product in the cart has no weight yet, so couriers cannot price it."
        ),
        "recipient_not_found": _("No Tindahan wallet is registered to this mobile number."),
        "recipient_is_sender": _("This is your own number. Send to someone else."),
        "recipient_is_business": _(
            "This number belongs to a store. Pay a store by scanning its QR code."
        ),
        "signin_failed": _("Wrong phone number or PIN."),
        "signin_locked": _(
            "Too many wrong tries. Signing in is locked for a while; try again later."
        ),
        "pin_wrong": _("Wrong PIN. Nothing was paid."),
        "pin_missing": _("Enter your PIN."),
        "pin_invalid": _("A PIN is 6 digits."),
        "pin_weak": _("This PIN is too easy to guess (one digit repeated, or digits in a row)."),
        "secret_missing": _("Enter the PIN or password you sign in with."),
        "phone_invalid": _("Enter a Philippine mobile number, like 0917 123 4567."),
        "code_wrong": _("This code is wrong or has expired. Check the SMS, or send a new code."),
        "code_throttled": _("Too many codes were asked for or tried. Please wait, then try again."),
        "code_resend_wait": _("A code was just sent. Please wait a minute before asking again."),
        "pin_mismatch": _("The two PINs are not the same."),
        "payment_request_paid": _("This payment request has already been paid."),
        "payment_request_expired": _("This payment request has expired."),
        "payment_request_canceled": _("This payment request was cancelled."),
        "payment_request_closed": _("This payment request is closed."),
        "out_of_stock": _("Sorry, there is not enough stock left."),
        "order_expired": _("This order waited too long for payment and was cancelled."),
        "order_not_payable": _("This order cannot be paid now."),
        "order_transition_invalid": _("That cannot be done to this order now."),
        "order_action_forbidden": _("That is not yours to do on this order."),
        "dispute_window_closed": _("The time to open a dispute on this order has passed."),
        "nothing_to_ship": _("Everything in this order has been shipped."),
        "slug_taken": _("Another shop already uses this web address."),
        "slug_invalid": _("Use lowercase letters, digits and dashes, like aling-nena."),
        "storefront_exists": _("You already have a storefront."),
        "price_invalid": _("Enter a price in pesos."),
        "stock_invalid": _("Stock is a whole number, zero or more."),
        "offer_expired": _("This offer has expired."),
        "offer_already_accepted": _("This offer was already accepted."),
        "loan_already_open": _("You already have a loan open; repay it first."),
        "loan_closed": _("This loan is fully paid."),
        "overpayment": _("That is more than the loan needs to be paid off."),
        "merchant_only": _("Only the merchant can do this."),
        "resource_missing": _("Not found."),
        "form_expired": _("This form is out of date. Please try again."),
        "idempotency_key_reused": _("This form was already sent. Please reload the page."),
        "tier_invalid": _("Choose one of the listed tiers."),
        "note_invalid": _("The note is too long."),
        "cart_empty": _("Your cart is empty."),
        "address_removed": _("This address was removed."),
        "address_book_full": _("Your address book is full. Remove an address first."),
        "offer_withdrawn": _("A newer offer replaced this one: look at the newest offer below."),
        "offer_changed": _("The schedule no longer matches this offer. Please ask for a new one."),
        "tracking_number_taken": _("This tracking number is already on another shipment."),
        "refund_exceeds_escrow": _("That is more than escrow still holds for this order."),
        "shipment_closed": _("This parcel was already delivered or returned."),
        "variants_invalid": _("Give each option a different name."),
        "photo_format": _("This is not a photo we can take: use a JPEG, PNG or WebP picture."),
        "photo_too_large": _("This photo is larger than 5 MB. Choose a smaller one."),
        "photo_too_many_pixels": _(
            "This picture has too many pixels (over 40 megapixels). Choose a smaller one."
        ),
        "photo_damaged": _("This picture is damaged or cut short. Try the photo again."),
        "photo_empty": _("This file is empty."),
        "alt_text_missing": _("Say what the photo shows, for buyers who cannot see it."),
        "phone_taken": _("This mobile number already has an account."),
        "mcc_invalid": _("A category code is four digits, like 5411."),
        "id_number_invalid": _("Check the ID number: letters, digits and dashes only."),
        "photos_full": _("This product has as many photos as it can. Remove one first."),
        "category_exists": _("You already have a category with this name."),
        "category_name_invalid": _("Give the category a name of at most 40 characters."),
        "categories_full": _("You have as many categories as a shop can. Remove one first."),
        "search_invalid": _("Search with fewer or shorter words."),
        "shipping_fee_invalid": _("Enter a shipping fee in pesos, 0 or more."),
        "credit_model_unavailable": _(
            "The credit check is not available right now. Please try again later."
        ),
        "credit_not_approved": _(
            "Your credit check is not yet enough for a loan. Keep selling through Tindahan "
            "and check again."
        ),
        "limit_below_minimum": _(
            "Your recent sales on Tindahan are still below what the smallest loan needs."
        ),
        "assessment_stale": _("Your credit check is too old. Please check again."),
        "product_retired": _("This loan is no longer offered."),
        "payout_exceeds_available": _(
            "That is more than you can withdraw now: see what is kept back above."
        ),
        "time_invalid": _("Enter a time of day, like 21:00."),
        "keep_invalid": _("Enter an amount in pesos, 0 or more."),
        "account_number_invalid": _(
            "An account number is 6 to 20 digits (spaces and dashes are fine)."
        ),
        "bank_accounts_full": _("You have {n} bank accounts already. Remove one first.").format(
            n=limits.MAX_BANK_ACCOUNTS_PER_PARTY
        ),
        "bank_account_removed": _("This bank account was removed."),
        "participant_inactive": _("This bank cannot be reached now."),
        "bank_account_blocked": _("This bank account cannot be used. Please contact Tindahan."),
        "no_rail": _("This bank takes only InstaPay, which carries at most ₱50,000.00 a transfer."),
        "qr_over_instapay_cap": _(
            "A shop's QR code of another bank is paid by InstaPay, at most ₱50,000.00 a payment."
        ),
        "qr_acquirer_unknown": _(
            "This code is from another bank or e-wallet that we cannot send to."
        ),
        "qr_acquirer_not_instapay": _(
            "This code's bank is not on InstaPay, so its QR codes cannot be paid from here."
        ),
    }
    return texts.get(refusal.code, refusal.message)
