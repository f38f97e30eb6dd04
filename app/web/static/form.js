// Small improvements over plain HTML: a live character count and a copy button.
(function () {
  var text = document.getElementById("description");
  var count = document.getElementById("description-count");
  if (text && count) {
    var timer;
    text.addEventListener("input", function () {
      // Announced after typing pauses, not on every key.
      clearTimeout(timer);
      var length = text.value.trim().length;
      timer = setTimeout(function () { count.textContent = "已输入" + length + "字"; }, 300);
    });
  }
  var copy = document.querySelector("button[data-copy]");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var code = document.getElementById(copy.getAttribute("data-copy")).textContent;
      navigator.clipboard.writeText(code).then(function () {
        document.querySelector(".copied").textContent = "查询码已复制";
      });
    });
  }
})();
