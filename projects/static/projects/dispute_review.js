// The dispute review panel's resolve form: the reviewer writes a rationale, picks the outcome,
// and their wallet signs admin-resolve-dispute-stx/-sbtc through the vendored @stacks/connect
// (window.StacksConnect, projects/static/vendor/stacks-connect.js). After the broadcast the tx id
// is recorded; the dispute turns resolved only when the indexer sees dispute-resolved.
(() => {
  "use strict";
  const form = document.getElementById("resolve-form");
  if (!form) return;
  const call = JSON.parse(document.getElementById("resolution-call").textContent);
  const rationale = form.querySelector("#rationale");
  const button = form.querySelector("#resolve-button");
  const status = document.getElementById("resolve-status");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  // The resolutions broadcast but not seen on chain yet: [{txId, releaseToFreelancer}].
  const pending = JSON.parse(document.getElementById("pending-decisions").textContent) || [];
  const contradiction = document.getElementById("contradiction");
  const confirmBox = document.getElementById("confirm-contradiction");

  const show = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };
  // No decision is preselected: the reviewer must choose one.
  const chosen = () => {
    const checked = form.querySelector("input[name=outcome]:checked");
    return checked ? checked.value === "freelancer" : null;
  };
  // A decision opposite to a pending one needs the explicit confirmation (so does the server).
  const contradicts = () => {
    const release = chosen();
    return release !== null && pending.some((p) => p.releaseToFreelancer !== release);
  };
  const ready = () => {
    contradiction.hidden = !contradicts();
    if (contradiction.hidden) confirmBox.checked = false;
    button.disabled =
      rationale.value.trim() === "" || chosen() === null || (contradicts() && !confirmBox.checked);
  };
  rationale.addEventListener("input", ready);
  form.addEventListener("change", ready);
  ready();

  function functionArgs(release) {
    const { Cl } = window.StacksConnect;
    const args = [Cl.uint(call.projectId), Cl.uint(call.milestone), Cl.bool(release)];
    if (call.tokenContract) {
      const [address, name] = call.tokenContract.split(".");
      args.push(Cl.contractPrincipal(address, name));
    }
    return args;
  }

  async function broadcast(release) {
    const connect = window.StacksConnect;
    const provider = connect.getStacksProvider();
    const result = await connect.request(provider ? { provider } : {}, "stx_callContract", {
      contract: call.contract,
      functionName: call.functionName,
      functionArgs: functionArgs(release),
      network: call.network,
      // The contract pays out of its own balance; it checks the amounts itself.
      postConditionMode: "allow",
    });
    const txid = String((result && (result.txid || result.txId)) || "").toLowerCase();
    if (!/^(0x)?[0-9a-f]{64}$/.test(txid)) throw new Error("the wallet returned no transaction id");
    return txid.startsWith("0x") ? txid : `0x${txid}`;
  }

  async function record(txId, text, release) {
    const response = await fetch(form.dataset.resolutionUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrftoken": csrf },
      body: JSON.stringify({ txId, rationale: text, releaseToFreelancer: release }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) return body;
    if (body.error && body.error.message) throw new Error(body.error.message);
    // Django's own CSRF refusal is an HTML page, not the JSON envelope
    if (response.status === 403) {
      throw new Error("refused (403): the session or its CSRF token expired; reload the page");
    }
    throw new Error(`${response.status} ${response.statusText}`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = rationale.value.trim();
    if (!text) {
      show("Write the rationale first.", true);
      return;
    }
    const release = chosen();
    if (release === null) {
      show("Choose the decision first.", true);
      return;
    }
    if (contradicts() && !confirmBox.checked) {
      show("This contradicts a pending resolution: tick the confirmation first.", true);
      return;
    }
    button.disabled = true;
    show("Waiting for your wallet to sign and broadcast…");
    let txId;
    try {
      txId = await broadcast(release);
    } catch (err) {
      show(`Not broadcast: ${(err && err.message) || err}`, true);
      ready();
      return;
    }
    try {
      await record(txId, text, release);
      show(`Broadcast ${txId}; recorded. The dispute turns resolved when the indexer sees it.`);
    } catch (err) {
      show(`Broadcast ${txId}, but recording it failed: ${(err && err.message) || err}`, true);
    }
  });
})();
