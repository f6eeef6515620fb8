// Shows debits, credits and their difference while a journal entry is typed. Sums are
// exact: amounts are parsed as integers of 1/10000 (BigInt), never as floats. The
// server decides; this only tells the accountant before they submit.
"use strict";
(() => {
  const SCALE = 4;

  function parse(text) {
    const value = text.trim().replaceAll(",", "");
    const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value);
    if (!value || !match || (match[2] === "" && !match[3])) return null;
    const fraction = (match[3] || "").padEnd(SCALE, "0");
    if (fraction.length > SCALE) return null;
    const units = BigInt((match[2] || "0") + fraction);
    return match[1] ? -units : units;
  }

  function format(units, places) {
    const negative = units < 0n;
    const digits = (negative ? -units : units).toString().padStart(SCALE + 1, "0");
    const whole = digits.slice(0, -SCALE).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const fraction = digits.slice(-SCALE).slice(0, places);
    return (negative ? "-" : "") + whole + (places ? "." + fraction : "");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const minorUnits = JSON.parse(document.getElementById("minor-units").textContent);
    const form = document.getElementById("action-form");
    const currency = form.querySelector('select[name="currency"]');
    const out = {
      debit: document.getElementById("total-debit"),
      credit: document.getElementById("total-credit"),
      difference: document.getElementById("difference"),
      state: document.getElementById("balance-state"),
      box: document.getElementById("balance-check"),
    };

    function update() {
      const places = minorUnits[currency.value] ?? 2;
      let debit = 0n;
      let credit = 0n;
      let unreadable = false;
      for (const input of form.querySelectorAll('input[name$="-debit"], input[name$="-credit"]')) {
        if (input.name.includes("__prefix__") || !input.value.trim()) continue;
        const units = parse(input.value);
        if (units === null) {
          unreadable = true;
          continue;
        }
        if (input.name.endsWith("-debit")) debit += units;
        else credit += units;
      }
      const difference = debit - credit;
      out.debit.textContent = format(debit, places);
      out.credit.textContent = format(credit, places);
      out.difference.textContent = format(difference, places);
      const balanced = difference === 0n && debit > 0n && !unreadable;
      out.box.classList.toggle("balanced", balanced);
      out.box.classList.toggle("unbalanced", !balanced);
      out.state.textContent = unreadable
        ? "an amount is not a number"
        : balanced
          ? "balanced"
          : debit === 0n && credit === 0n
            ? ""
            : "does not balance";
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("lines:added", update);
    update();
  });
})();
