"""simple_salesforce (from PyPI, unchanged) against the Salesforce simulator.

simple_salesforce always talks https to <domain>.salesforce.com and to the instance host the login
returns. A requests transport adapter, handed to the library through its own `session` argument,
routes those hosts to the simulator on 127.0.0.1 over http — the part a hosts file and TLS would
play — so the client code and its wire format are exactly as shipped.

  python simple_salesforce_check.py SIM_URL PUBLIC_HOST USERNAME PASSWORD TOKEN
Prints one JSON object with what the client saw.
"""
import json
import sys

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed


class RouteToSimulator(HTTPAdapter):
    def __init__(self, target):
        super().__init__()
        self.target = target.rstrip("/")

    def send(self, request, **kwargs):
        path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        request.url = f"{self.target}/{path}"
        return super().send(request, **kwargs)


def main():
    sim_url, public_host, username, password, token = sys.argv[1:6]
    session = requests.Session()
    adapter = RouteToSimulator(sim_url)
    session.mount("https://login.salesforce.com", adapter)
    session.mount(f"https://{public_host}", adapter)

    out = {}
    try:
        Salesforce(username=username, password=password, security_token="WRONG", session=session)
        out["bad_login"] = "accepted"
    except SalesforceAuthenticationFailed as e:
        out["bad_login"] = str(e.code)

    sf = Salesforce(username=username, password=password, security_token=token, session=session, version="62.0")
    out["instance"] = sf.sf_instance
    described = sf.Account.describe()
    out["account_fields"] = {f["name"]: {"type": f["type"], "compound": f["compoundFieldName"], "precision": f["precision"], "scale": f["scale"]} for f in described["fields"]}
    out["objects"] = sorted(o["name"] for o in sf.describe()["sobjects"])
    first = sf.query("SELECT Id, Name, AnnualRevenue, SystemModstamp FROM Account ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=200"})
    out["first_page"] = {"size": len(first["records"]), "done": first["done"], "total": first["totalSize"], "next": first.get("nextRecordsUrl")}
    everything = sf.query_all("SELECT Id, Name, AnnualRevenue, SystemModstamp FROM Account ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=200"})
    out["all"] = [{k: v for k, v in r.items() if k != "attributes"} for r in everything["records"]]
    # Bulk API 1.0 (what dlt's Salesforce source reads through): job, batch, result, JSON records.
    try:
        sf.bulk.Account.query("SELECT Id, Logo__c FROM Account")
        out["bulk_v1_base64"] = "accepted"
    except Exception as e:  # SalesforceGeneralError: the batch failed
        out["bulk_v1_base64"] = "Failed" if "InvalidBatch" in str(e) else str(e)
    pages = list(sf.bulk.Account.query_all("SELECT Id, Name, SystemModstamp FROM Account", lazy_operation=True))
    out["bulk_v1"] = {"pages": len(pages), "rows": [{k: v for k, v in r.items() if k != "attributes"} for page in pages for r in page]}
    try:
        sf.query("SELECT Bogus__c FROM Account")
        out["invalid_field"] = "accepted"
    except Exception as e:  # simple_salesforce raises SalesforceMalformedRequest
        out["invalid_field"] = e.content[0]["errorCode"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
