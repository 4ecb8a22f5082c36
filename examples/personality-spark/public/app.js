// A tiny client for the Worker's JSON API.
let quiz = null;

document.getElementById("start").onclick = async () => {
  const type = document.getElementById("type").value;
  quiz = await (await fetch(`/api/quizzes/generate/${type}`)).json();
  const form = document.getElementById("quiz");
  form.innerHTML = quiz.questions.map((q) => `
    <fieldset><legend>${q.text}</legend>
      ${q.options.map((o, i) => `<label><input type="radio" name="${q.id}" value="${i + 1}" required> ${o}</label>`).join(" ")}
    </fieldset>`).join("") + "<button>Submit</button>";
  form.hidden = false;
};

document.getElementById("quiz").onsubmit = async (event) => {
  event.preventDefault();
  const answers = Object.fromEntries([...new FormData(event.target)].map(([k, v]) => [k, Number(v)]));
  const response = await fetch("/api/quizzes/submit", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ quiz_id: quiz.id, quiz_type: quiz.type, user_id: null, answers }),
  });
  const result = await response.json();
  const share = await (await fetch(`/api/share/${result.id}`, { method: "POST" })).json();
  document.getElementById("result").innerHTML = `<img src="${share.url}" alt="your result">`;
};
