// page.js — a page of another origin calling supplysec's API over Connect
// (tests/e2e/test_console.py, CORS). The test calls callApi(base, key) and
// reads what the page reports in #result: "ok <status> <names>" when the
// browser let the answer through, "blocked: <error>" when it did not.
"use strict";

window.callApi = async function callApi(base, key) {
  const out = document.getElementById("result");
  try {
    const resp = await fetch(base + "/supplysec.v1.Organizations/ListOrganizations", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + key },
      body: "{}",
    });
    const body = await resp.json();
    out.textContent = "ok " + resp.status + " " + (body.organizations || []).map((o) => o.name).join(",") +
      " x-request-id:" + (resp.headers.get("x-request-id") ? "exposed" : "hidden");
  } catch (e) {
    out.textContent = "blocked: " + e.name + ": " + e.message;
  }
  return out.textContent;
};
