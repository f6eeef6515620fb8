// The load scenario of loadtest/locustfile.py for k6:
//
//   k6 run --vus 100 --duration 10m \
//     -e BASE_URL=http://127.0.0.1:8000 -e ACCOUNTANT_TOKEN=... -e VIEWER_TOKEN=... \
//     loadtest/load-test-finance.js
//
// Tokens: `python manage.py issue_token NAME --role accountant|viewer --create`; the
// accounts posted to are those of `python manage.py seed_demo`. Each virtual user plays
// one part for the whole run, in the proportions of the locust scenario: accountants
// (5 in 10) browse reports and lists, post journal entries and issue invoices; API
// clients (2 in 10) create an invoice, issue it, record a payment and allocate it, every
// POST with an Idempotency-Key, and read the invoice back; viewers (3 in 10) read
// reports and lists. Everyone pauses 0.5-1.5 s between actions.
//
// Only loopback or a test host: the thresholds below are the team's original targets.

import http from "k6/http";
import { check, sleep } from "k6";

export const options = {
  thresholds: {
    http_req_duration: ["p(95)<300", "p(99)<500"],
    http_req_failed: ["rate<0.005"],
  },
};

const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8000").replace(/\/$/, "");
const CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Enterprises"];
const EXPENSES = ["6050", "6070", "6080", "6110"];
const STATEMENT_ACCOUNTS = ["1010", "1100", "4100", "6010"];
const REPORTS = [
  ["/api/v1/reports/trial-balance/", "trial balance"],
  ["/api/v1/reports/balance-sheet/", "balance sheet"],
  ["/api/v1/reports/income-statement/", "income statement"],
  ["/api/v1/reports/ar-aging/", "ar aging"],
];
const LISTS = [
  ["/api/v1/journal-entries/?limit=50", "journal entries"],
  ["/api/v1/invoices/?limit=50", "invoices"],
  ["/api/v1/invoices/?status=issued&limit=50", "invoices issued"],
  ["/api/v1/payments/?limit=50", "payments"],
  ["/api/v1/accounts/", "accounts"],
];

function pick(items) {
  return items[Math.floor(Math.random() * items.length)];
}

function randomInt(low, high) {
  return low + Math.floor(Math.random() * (high - low + 1));
}

function uuid4() {
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
    const r = Math.floor(Math.random() * 16);
    return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
  });
}

function isoDate(offsetDays) {
  const day = new Date(Date.now() + (offsetDays || 0) * 86400000);
  return day.toISOString().slice(0, 10);
}

function think() {
  sleep(0.5 + Math.random());
}

function headers(token, extra) {
  // The ingress terminates TLS and says so; production settings redirect plain HTTP.
  return Object.assign(
    { Authorization: `Token ${token}`, "X-Forwarded-Proto": "https", "Content-Type": "application/json" },
    extra || {},
  );
}

function get(token, path, name) {
  const response = http.get(`${BASE_URL}${path}`, { headers: headers(token), tags: { name } });
  check(response, { [`${name}: 200`]: (r) => r.status === 200 });
  return response;
}

function post(token, path, body, name) {
  const response = http.post(`${BASE_URL}${path}`, JSON.stringify(body), {
    headers: headers(token, { "Idempotency-Key": uuid4() }),
    tags: { name },
  });
  check(response, { [`${name}: 2xx`]: (r) => r.status >= 200 && r.status < 300 });
  return response;
}

function invoiceBody() {
  const lines = [
    {
      description: "Consulting hours",
      quantity: String(randomInt(2, 30)),
      unit_price: "145.00",
      account: "4100",
      tax_rate: "0.08",
    },
  ];
  if (Math.random() < 0.5) {
    lines.push({ description: "Support plan", quantity: "1", unit_price: "490.00", account: "4020" });
  }
  return { customer: pick(CUSTOMERS), due_date: isoDate(30), lines };
}

let invoiceIds = [];

function readList(token) {
  const [path, name] = pick(LISTS);
  const response = get(token, path, name);
  if (name.startsWith("invoices") && response.status === 200) {
    invoiceIds = response.json("results").slice(0, 20).map((invoice) => invoice.id);
  }
}

function readInvoice(token) {
  if (invoiceIds.length === 0) {
    readList(token);
    return;
  }
  get(token, `/api/v1/invoices/${pick(invoiceIds)}/`, "invoice");
}

function readReport(token) {
  const [path, name] = pick(REPORTS);
  get(token, path, name);
}

function weighted(choices) {
  const total = choices.reduce((sum, [weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [weight, action] of choices) {
    roll -= weight;
    if (roll < 0) {
      return action;
    }
  }
  return choices[choices.length - 1][1];
}

function accountant(token) {
  const action = weighted([
    [4, () => readReport(token)],
    [4, () => readList(token)],
    [2, () => readInvoice(token)],
    [
      1,
      () =>
        get(token, `/api/v1/accounts/${pick(STATEMENT_ACCOUNTS)}/statement/?from=${isoDate(-30)}`, "account statement"),
    ],
    [
      2,
      () => {
        const amount = `${randomInt(5, 900)}.${String(randomInt(0, 99)).padStart(2, "0")}`;
        post(
          token,
          "/api/v1/journal-entries/",
          {
            date: isoDate(0),
            description: "Office supplies",
            lines: [
              { account: pick(EXPENSES), debit: amount },
              { account: "2100", credit: amount },
            ],
          },
          "post journal entry",
        );
      },
    ],
    [
      1,
      () => {
        const created = post(token, "/api/v1/invoices/", invoiceBody(), "create invoice");
        if (created.status === 201) {
          post(token, `/api/v1/invoices/${created.json("id")}/issue/`, { issue_date: isoDate(0) }, "issue invoice");
        }
      },
    ],
  ]);
  action();
}

function apiClient(token) {
  const created = post(token, "/api/v1/invoices/", invoiceBody(), "create invoice");
  if (created.status !== 201) {
    return;
  }
  const invoice = created.json();
  const issued = post(token, `/api/v1/invoices/${invoice.id}/issue/`, { issue_date: isoDate(0) }, "issue invoice");
  if (issued.status !== 200) {
    return;
  }
  const payment = post(
    token,
    "/api/v1/payments/",
    {
      customer: invoice.customer,
      amount: invoice.total,
      date: isoDate(0),
      deposit_account: "1010",
      method: "bank transfer",
    },
    "record payment",
  );
  if (payment.status !== 201) {
    return;
  }
  const allocated = post(
    token,
    `/api/v1/payments/${payment.json("id")}/allocate/`,
    { invoice: invoice.id, amount: invoice.total },
    "allocate payment",
  );
  if (allocated.status !== 200) {
    return;
  }
  const readBack = get(token, `/api/v1/invoices/${invoice.id}/`, "invoice");
  check(readBack, { "invoice reads back paid": (r) => r.status === 200 && r.json("status") === "paid" });
}

function viewer(token) {
  weighted([
    [5, () => readReport(token)],
    [3, () => readList(token)],
    [2, () => readInvoice(token)],
  ])();
}

export default function () {
  // Virtual users 1-5 of every 10 are accountants, 6-7 API clients, 8-10 viewers.
  const slot = (__VU - 1) % 10;
  if (slot < 5) {
    accountant(__ENV.ACCOUNTANT_TOKEN);
  } else if (slot < 7) {
    apiClient(__ENV.ACCOUNTANT_TOKEN);
  } else {
    viewer(__ENV.VIEWER_TOKEN);
  }
  think();
}
