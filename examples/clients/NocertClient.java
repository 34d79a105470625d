import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A host system's client of the nocert-rules decision service, with nothing but java.net.http (Java 17).
 *
 * <pre>
 *   javac -d out examples/clients/NocertClient.java
 *   java -cp out NocertClient http://127.0.0.1:8080 examples/requests/pledge.json
 * </pre>
 *
 * The bearer token, if the service has one, comes from the environment variable NOCERT_TOKEN.
 * Prints the Decision JSON (exactly what Engine.decide returns) on standard output and the chosen
 * method and ruleset version on standard error. Exit code: 0 decided, 1 the service refused the
 * request (a problem document, printed), 2 the service could not be reached.
 * A real host would parse the JSON with its own library (Jackson, Gson); the JDK has none.
 */
public final class NocertClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String token;

    public NocertClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    /** POST /v1/decide with a DecisionRequest as JSON text; the raw response. */
    public HttpResponse<String> decide(String requestJson) throws IOException, InterruptedException {
        return post("/v1/decide", requestJson);
    }

    /** POST /v1/decide/batch with {"requests": [...]}; one result per request, in order. */
    public HttpResponse<String> decideBatch(String batchJson) throws IOException, InterruptedException {
        return post("/v1/decide/batch", batchJson);
    }

    private HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        if (token != null && !token.isEmpty()) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** The first string value of a top-level-looking field (enough for a log line; use a JSON library). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : "?";
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: java NocertClient BASE_URL REQUEST.json");
            System.exit(2);
        }
        NocertClient client = new NocertClient(URI.create(args[0]), System.getenv("NOCERT_TOKEN"));
        try {
            String request = Files.readString(Path.of(args[1]), StandardCharsets.UTF_8);
            HttpResponse<String> response = client.decide(request);
            System.out.println(response.body());
            if (response.statusCode() != 200) {
                System.err.println("refused: HTTP " + response.statusCode() + " " + field(response.body(), "title"));
                System.exit(1);
            }
            String version = response.headers().firstValue("X-Ruleset-Version").orElse("?");
            System.err.println("method " + field(response.body(), "method") + ", ruleset version " + version);
        } catch (IOException e) {
            System.err.println("cannot reach the service: " + e);
            System.exit(2);
        }
    }
}
